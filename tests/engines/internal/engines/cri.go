package engines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runo-dev/runo/tests/engines/internal/harness"
)

// CRI is Kubernetes' node path: containerd's CRI plugin with the runtime as
// a runtime handler (BinaryName of the runc v2 shim options), driven by
// crictl. The pod uses the host network namespace (NamespaceMode NODE):
// pod networking needs CNI plugins, a bridge and iptables, which this
// harness must not set up on a shared host.
func CRI(crictl string) harness.Engine {
	return harness.Engine{Name: "cri", New: func(env harness.Env) harness.Instance {
		return &criEngine{env: env, crictl: crictl}
	}}
}

type criEngine struct {
	env    harness.Env
	crictl string
	cd     *containerd
	cmd    harness.Cmd
	pod    string // sandbox id
	ctr    string // long-running container id
}

const criConfig = `
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[1]q
  enable_selinux = false
  disable_apparmor = true
  # The sandbox asks for oom_score_adj -998; lowering it needs
  # CAP_SYS_RESOURCE, which a sandboxed CI root may lack: clamp instead.
  restrict_oom_score_adj = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = %[2]q
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[2]s]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[2]s.options]
        BinaryName = %[3]q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[4]q
    conf_dir = %[5]q
`

func (e *criEngine) Setup(ctx context.Context, log io.Writer) error {
	dir := e.env.Dir
	for _, d := range []string{"cni/bin", "cni/conf", "pods"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	extra := fmt.Sprintf(criConfig, e.env.Images.Pause, e.env.Runtime.Name, e.env.Runtime.Path,
		filepath.Join(dir, "cni/bin"), filepath.Join(dir, "cni/conf"))
	cd, err := startContainerd(dir, false, extra)
	if err != nil {
		return err
	}
	e.cd = cd
	ep := "unix://" + cd.sock
	cfg := filepath.Join(dir, "crictl.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("runtime-endpoint: %s\nimage-endpoint: %s\ntimeout: 30\n", ep, ep)), 0o644); err != nil {
		return err
	}
	e.cmd = harness.Cmd{Bin: e.crictl, Args: []string{"--config", cfg}, Timeout: 60 * time.Second}
	ctrCmd := harness.Cmd{Bin: "ctr", Args: []string{"--address", cd.sock, "--namespace", "k8s.io"}, Log: log, Timeout: 60 * time.Second}
	if err := ctrCmd.Run(ctx, "images", "import", e.env.Images.Archive).Check(); err != nil {
		return fmt.Errorf("import into k8s.io: %w", err)
	}
	return harness.ExpectContains(e.cmd.With(log).Run(ctx, "images"), "localhost/runo-pause")
}

func (e *criEngine) Scenarios() []harness.Scenario {
	return []harness.Scenario{
		harness.S("sandbox", e.sandbox),
		harness.S("run-print", e.runPrint),
		harness.S("exec", e.exec),
		harness.S("tty-exec", e.ttyExec),
		harness.S("exit-code", e.exitCode),
		harness.S("limits", e.limits),
		harness.S("security-context", e.security),
		harness.S("seccomp-default", e.seccomp),
		harness.S("update", e.update),
		harness.S("stats", e.stats),
		harness.S("stop-rm", e.stopRm),
	}
}

// needCtr fails fast when the sandbox scenario could not start the pod's
// long-running container.
func (e *criEngine) needCtr() error {
	if e.ctr == "" {
		return errors.New("no container (the sandbox scenario failed)")
	}
	return nil
}

func (e *criEngine) x(t *harness.T, args ...string) harness.Result {
	return e.cmd.With(t.Log).Run(t.Ctx, args...)
}

func (e *criEngine) writeJSON(t *harness.T, name string, v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(t.Dir, name)
	fmt.Fprintf(t.Log, "%s:\n%s\n", p, b)
	return p, os.WriteFile(p, b, 0o644)
}

func (e *criEngine) podConfig() map[string]any {
	return map[string]any{
		"metadata":      map[string]any{"name": "runo-pod", "namespace": "default", "uid": "runo-pod-uid", "attempt": 0},
		"log_directory": filepath.Join(e.env.Dir, "pods"),
		"linux": map[string]any{
			"cgroup_parent": e.env.CgroupParent + "/pod",
			// 2 = NODE: the host's network namespace (see CRI's doc).
			"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}},
		},
	}
}

// startContainer creates and starts a container in the pod.
func (e *criEngine) startContainer(t *harness.T, name string, cmd []string, linux map[string]any) (string, error) {
	if e.pod == "" {
		return "", errors.New("no pod sandbox (the sandbox scenario failed)")
	}
	cfg := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": e.env.Images.Busybox},
		"command":  cmd,
		"log_path": name + ".log",
	}
	if linux != nil {
		cfg["linux"] = linux
	}
	cp, err := e.writeJSON(t, name+".json", cfg)
	if err != nil {
		return "", err
	}
	pp, err := e.writeJSON(t, "pod.json", e.podConfig())
	if err != nil {
		return "", err
	}
	r := e.x(t, "create", e.pod, cp, pp)
	if err := r.Check(); err != nil {
		return "", err
	}
	id := r.Out()
	if err := e.x(t, "start", id).Check(); err != nil {
		return id, err
	}
	return id, nil
}

func (e *criEngine) inspect(t *harness.T, id, tmpl string) (string, error) {
	r := e.x(t, "inspect", "-o", "go-template", "--template", tmpl, id)
	return r.Out(), r.Check()
}

func (e *criEngine) sandbox(t *harness.T) error {
	pp, err := e.writeJSON(t, "pod.json", e.podConfig())
	if err != nil {
		return err
	}
	r := e.x(t, "runp", "--runtime", e.env.Runtime.Name, pp)
	if err := r.Check(); err != nil {
		return err
	}
	e.pod = r.Out()
	if err := harness.Expect(e.x(t, "inspectp", "-o", "go-template", "--template", "{{.status.state}}", e.pod), "SANDBOX_READY"); err != nil {
		return err
	}
	e.ctr, err = e.startContainer(t, "main", []string{"sh", "-c", "echo started; echo to-stderr >&2; trap 'exit 0' TERM; sleep 600 & wait"},
		map[string]any{"resources": map[string]any{"memory_limit_in_bytes": 67108864, "cpu_quota": 50000, "cpu_period": 100000, "cpu_shares": 512}})
	if err != nil {
		return err
	}
	return harness.Expect(e.x(t, "inspect", "-o", "go-template", "--template", "{{.status.state}}", e.ctr), "CONTAINER_RUNNING")
}

func (e *criEngine) runPrint(t *harness.T) error {
	if err := e.needCtr(); err != nil {
		return err
	}
	var r harness.Result
	for i := 0; i < 20; i++ {
		r = e.x(t, "logs", e.ctr)
		if strings.Contains(r.Stdout, "started") && strings.Contains(r.Stderr, "to-stderr") {
			return nil
		}
		waitMS(t, 100)
	}
	return fmt.Errorf("crictl logs: stdout %q stderr %q, want started / to-stderr", r.Stdout, r.Stderr)
}

func (e *criEngine) exec(t *harness.T) error {
	if err := e.needCtr(); err != nil {
		return err
	}
	if err := harness.Expect(e.x(t, "exec", "-s", e.ctr, "sh", "-c", "echo inside; hostname"), "inside\n"+mustHostname()); err != nil {
		return err
	}
	// With NODE networking containerd also keeps the host's uts ns, so
	// the hostname and net ns are the host's.
	host, _ := os.Readlink("/proc/self/ns/net")
	return harness.Expect(e.x(t, "exec", "-s", e.ctr, "readlink", "/proc/self/ns/net"), host)
}

func mustHostname() string {
	h, _ := os.Hostname()
	return h
}

func (e *criEngine) ttyExec(t *harness.T) error {
	if err := e.needCtr(); err != nil {
		return err
	}
	line := shellQuote(append([]string{e.cmd.Bin}, append(append([]string{}, e.cmd.Args...), "exec", "-it", e.ctr, "sh", "-c", "test -t 1 && tty")...))
	sc := harness.Cmd{Bin: "script", Args: []string{"-qec", line, "/dev/null"}, Log: t.Log, Timeout: 60 * time.Second}
	return harness.ExpectContains(sc.Run(t.Ctx), "/dev/pts/")
}

func (e *criEngine) exitCode(t *harness.T) error {
	id, err := e.startContainer(t, "exiter", []string{"sh", "-c", "exit 3"}, nil)
	if err != nil {
		return err
	}
	var out string
	for i := 0; i < 50; i++ {
		out, err = e.inspect(t, id, "{{.status.state}} {{.status.exitCode}}")
		if err == nil && strings.HasPrefix(out, "CONTAINER_EXITED") {
			break
		}
		waitMS(t, 100)
	}
	if out != "CONTAINER_EXITED 3" {
		return fmt.Errorf("state/exit %q, want CONTAINER_EXITED 3", out)
	}
	return e.x(t, "rm", id).Check()
}

func (e *criEngine) pid(t *harness.T, id string) (string, error) {
	return e.inspect(t, id, "{{.info.pid}}")
}

func (e *criEngine) limits(t *harness.T) error {
	if err := e.needCtr(); err != nil {
		return err
	}
	pid, err := e.pid(t, e.ctr)
	if err != nil {
		return err
	}
	if err := expectCgroup(t.Log, pid, limitsWant); err != nil {
		return err
	}
	data, _ := os.ReadFile("/proc/" + pid + "/cgroup")
	if !strings.Contains(string(data), e.env.CgroupParent+"/pod/") {
		return fmt.Errorf("container cgroups %q not below the pod's parent %s/pod", data, e.env.CgroupParent)
	}
	return nil
}

func (e *criEngine) security(t *harness.T) error {
	id, err := e.startContainer(t, "secure", sleeper, map[string]any{
		"security_context": map[string]any{
			"run_as_user":     map[string]any{"value": 1000},
			"run_as_group":    map[string]any{"value": 1000},
			"readonly_rootfs": true,
			"capabilities":    map[string]any{"drop_capabilities": []string{"ALL"}},
		},
	})
	if err != nil {
		return err
	}
	r := e.x(t, "exec", "-s", id, "sh", "-c", `echo "$(id -u):$(id -g)"; touch /etc/x 2>&1; grep CapEff /proc/self/status | awk '{print $2}'`)
	return harness.Expect(r, "1000:1000\ntouch: /etc/x: Read-only file system\n0000000000000000")
}

func (e *criEngine) seccomp(t *harness.T) error {
	id, err := e.startContainer(t, "seccomp", sleeper, map[string]any{
		"security_context": map[string]any{
			"capabilities": map[string]any{"add_capabilities": []string{"SYS_ADMIN"}},
			// 0 = RuntimeDefault: containerd's default profile.
			"seccomp": map[string]any{"profile_type": 0},
		},
	})
	if err != nil {
		return err
	}
	r := e.x(t, "exec", "-s", id, "sh", "-c", "grep '^Seccomp:' /proc/self/status | awk '{print $2}'; swapon /dev/null 2>&1; true")
	return harness.ExpectContains(r, "2\n", "Operation not permitted")
}

func (e *criEngine) update(t *harness.T) error {
	if err := e.needCtr(); err != nil {
		return err
	}
	if err := e.x(t, "update", "--memory", "134217728", "--cpu-quota", "25000", e.ctr).Check(); err != nil {
		return err
	}
	pid, err := e.pid(t, e.ctr)
	if err != nil {
		return err
	}
	if err := expectCgroup(t.Log, pid, []cgroupWant{
		{"memory", "memory.limit_in_bytes", "memory.max", "134217728"},
		{"cpu", "cpu.cfs_quota_us", "cpu.max", "25000"},
	}); err != nil {
		return fmt.Errorf("after update: %w", err)
	}
	return nil
}

func (e *criEngine) stats(t *harness.T) error {
	if err := e.needCtr(); err != nil {
		return err
	}
	r := e.x(t, "stats", "-o", "json", "--id", e.ctr)
	if err := r.Check(); err != nil {
		return err
	}
	var s struct {
		Stats []struct {
			Memory struct {
				WorkingSetBytes struct {
					Value string `json:"value"`
				} `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		return fmt.Errorf("crictl stats output: %w", err)
	}
	if len(s.Stats) != 1 || s.Stats[0].Memory.WorkingSetBytes.Value == "" || s.Stats[0].Memory.WorkingSetBytes.Value == "0" {
		return fmt.Errorf("crictl stats: no memory working set in %s", r.Out())
	}
	return nil
}

func (e *criEngine) stopRm(t *harness.T) error {
	if e.pod == "" {
		return errors.New("no pod sandbox")
	}
	if err := e.x(t, "stop", "--timeout", "10", e.ctr).Check(); err != nil {
		return err
	}
	if got, err := e.inspect(t, e.ctr, "{{.status.state}} {{.status.exitCode}}"); err != nil || got != "CONTAINER_EXITED 0" {
		return fmt.Errorf("after stop: %q %v, want CONTAINER_EXITED 0 (SIGTERM handled)", got, err)
	}
	if err := e.x(t, "rm", e.ctr).Check(); err != nil {
		return err
	}
	if err := e.x(t, "stopp", e.pod).Check(); err != nil {
		return err
	}
	if err := e.x(t, "rmp", e.pod).Check(); err != nil {
		return err
	}
	e.pod, e.ctr = "", ""
	return harness.Expect(e.x(t, "pods", "-q"), "")
}

func (e *criEngine) Clean(ctx context.Context, log io.Writer) error { return nil }

func (e *criEngine) Teardown(ctx context.Context, log io.Writer) error {
	if e.cd == nil {
		return nil
	}
	cmd := e.cmd.With(log)
	r := cmd.Run(ctx, "pods", "-q")
	for _, id := range strings.Fields(r.Out()) {
		cmd.Run(ctx, "stopp", id)
		cmd.Run(ctx, "rmp", "--force", id)
	}
	return e.cd.stop(ctx, log)
}

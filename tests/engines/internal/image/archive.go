package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Media types of the OCI image-spec; written as literals so this module has
// no dependency beyond the standard library.
const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
)

// Spec is one image of the archive: all images share the single rootfs layer
// and differ only by reference and process.
type Spec struct {
	Ref        string // full reference, e.g. localhost/runo-busybox:latest
	Entrypoint []string
	Cmd        []string
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

type imageConfig struct {
	Env        []string `json:"Env"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type config struct {
	Created      string      `json:"created"`
	Architecture string      `json:"architecture"`
	OS           string      `json:"os"`
	Config       imageConfig `json:"config"`
	RootFS       rootFS      `json:"rootfs"`
}

// dockerEntry is one element of docker-archive's manifest.json.
type dockerEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

type blob struct {
	digest string
	data   []byte
}

func newBlob(data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{digest: "sha256:" + hex.EncodeToString(sum[:]), data: data}
}

func (b blob) path() string { return "blobs/sha256/" + strings.TrimPrefix(b.digest, "sha256:") }

// WriteArchive writes path as a tar holding an OCI image layout and a
// docker-archive manifest.json over the same blobs, with one image per spec.
func WriteArchive(path string, layer []byte, specs []Spec) error {
	if len(specs) == 0 {
		return fmt.Errorf("write archive %s: no image", path)
	}
	layerBlob := newBlob(layer)
	blobs := []blob{layerBlob}
	var idx index
	idx.SchemaVersion, idx.MediaType = 2, mediaIndex
	var docker []dockerEntry
	for _, s := range specs {
		if !strings.Contains(s.Ref, ":") {
			return fmt.Errorf("image ref %q: want name:tag", s.Ref)
		}
		cfg := config{
			Created:      epoch.Format("2006-01-02T15:04:05Z"),
			Architecture: "amd64",
			OS:           "linux",
			Config: imageConfig{
				Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Entrypoint: s.Entrypoint,
				Cmd:        s.Cmd,
				WorkingDir: "/",
			},
			RootFS: rootFS{Type: "layers", DiffIDs: []string{layerBlob.digest}},
		}
		cfgJSON, err := json.Marshal(cfg)
		if err != nil {
			return fmt.Errorf("marshal config of %s: %w", s.Ref, err)
		}
		cfgBlob := newBlob(cfgJSON)
		m := manifest{
			SchemaVersion: 2,
			MediaType:     mediaManifest,
			Config:        descriptor{MediaType: mediaConfig, Digest: cfgBlob.digest, Size: int64(len(cfgJSON))},
			Layers:        []descriptor{{MediaType: mediaLayer, Digest: layerBlob.digest, Size: int64(len(layer))}},
		}
		mJSON, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("marshal manifest of %s: %w", s.Ref, err)
		}
		mBlob := newBlob(mJSON)
		blobs = append(blobs, cfgBlob, mBlob)
		tag := s.Ref[strings.LastIndex(s.Ref, ":")+1:]
		idx.Manifests = append(idx.Manifests, descriptor{
			MediaType: mediaManifest,
			Digest:    mBlob.digest,
			Size:      int64(len(mJSON)),
			Platform:  &platform{Architecture: "amd64", OS: "linux"},
			Annotations: map[string]string{
				// containerd names imported images by this annotation;
				// the ref.name is the tag per the image-spec.
				"io.containerd.image.name":          s.Ref,
				"org.opencontainers.image.ref.name": tag,
			},
		})
		docker = append(docker, dockerEntry{Config: cfgBlob.path(), RepoTags: []string{s.Ref}, Layers: []string{layerBlob.path()}})
	}
	idxJSON, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("marshal index: %w", err)
	}
	dockerJSON, err := json.Marshal(docker)
	if err != nil {
		return fmt.Errorf("marshal manifest.json: %w", err)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create archive: %w", err)
	}
	tw := tar.NewWriter(f)
	werr := func() error {
		if err := tarFile(tw, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
			return err
		}
		for _, d := range []string{"blobs/", "blobs/sha256/"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch}); err != nil {
				return fmt.Errorf("tar %s: %w", d, err)
			}
		}
		seen := map[string]bool{}
		for _, b := range blobs {
			if seen[b.digest] {
				continue
			}
			seen[b.digest] = true
			if err := tarFile(tw, b.path(), b.data); err != nil {
				return err
			}
		}
		if err := tarFile(tw, "index.json", idxJSON); err != nil {
			return err
		}
		if err := tarFile(tw, "manifest.json", dockerJSON); err != nil {
			return err
		}
		return tw.Close()
	}()
	cerr := f.Close()
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("write archive %s: %w", path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("close archive %s: %w", path, cerr)
	}
	return nil
}

package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// LoadSpec reads <bundle>/config.json, resolves the rootfs against the bundle, and validates
// everything that can be checked before any resource is created.
func LoadSpec(bundle string) (*specs.Spec, string, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, "", fmt.Errorf("bundle %s: %w", bundle, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("bundle %s: config.json not found", abs)
		}
		return nil, "", fmt.Errorf("bundle %s: read config.json: %w", abs, err)
	}
	spec, err := ParseSpec(data)
	if err != nil {
		return nil, "", err
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(abs, rootfs)
	}
	if err := validateRootfs(rootfs); err != nil {
		return nil, "", err
	}
	return spec, abs, nil
}

// ParseSpec decodes and validates config.json content (no filesystem checks of the bundle).
func ParseSpec(data []byte) (*specs.Spec, error) {
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("config.json: malformed JSON at byte %d: %w", se.Offset, err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("config.json: field %s: %w", te.Field, err)
		}
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if err := Validate(&spec); err != nil {
		return nil, err
	}
	return &spec, nil
}

func validateRootfs(rootfs string) error {
	st, err := os.Stat(rootfs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("root.path: rootfs %s does not exist", rootfs)
		}
		return fmt.Errorf("root.path: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("root.path: rootfs %s is not a directory", rootfs)
	}
	return nil
}

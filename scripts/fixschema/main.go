// Command fixschema rewrites the provider keys of a `tofu providers schema -json`
// document so that tfplugindocs can find the provider schema.
//
// OpenTofu keys each provider by its full source address
// ("registry.opentofu.org/monotask/flareops"), while tfplugindocs v0.25.0 only
// looks up the bare provider name ("flareops") or
// "registry.terraform.io/hashicorp/<name>". fixschema renames every key whose
// last path element is the given provider name to that bare name; the schema
// bodies are copied through unchanged.
//
// Usage:
//
//	go run ./scripts/fixschema -name flareops -in schema.tofu.json -out schema.json
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	name := flag.String("name", "flareops", "provider short name (the last element of the source address)")
	in := flag.String("in", "-", "input schema JSON file, - for stdin")
	out := flag.String("out", "-", "output schema JSON file, - for stdout")
	flag.Parse()

	if err := run(*name, *in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "fixschema:", err)
		os.Exit(1)
	}
}

func run(name, in, out string) error {
	var data []byte
	var err error
	if in == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(in)
	}
	if err != nil {
		return err
	}

	fixed, err := fix(data, name)
	if err != nil {
		return err
	}

	if out == "-" {
		_, err = os.Stdout.Write(fixed)
		return err
	}
	return os.WriteFile(out, fixed, 0o644)
}

// fix renames the provider_schemas key(s) for provider name to the bare name.
func fix(data []byte, name string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing schema JSON: %w", err)
	}
	raw, ok := doc["provider_schemas"]
	if !ok {
		return nil, errors.New(`no "provider_schemas" in schema JSON (is the provider built and configured?)`)
	}
	var schemas map[string]json.RawMessage
	if err := json.Unmarshal(raw, &schemas); err != nil {
		return nil, fmt.Errorf("parsing provider_schemas: %w", err)
	}

	renamed := make(map[string]json.RawMessage, len(schemas))
	found := 0
	for key, body := range schemas {
		if key == name || strings.HasSuffix(key, "/"+name) {
			found++
			key = name
		}
		renamed[key] = body
	}
	switch {
	case found == 0:
		keys := make([]string, 0, len(schemas))
		for k := range schemas {
			keys = append(keys, k)
		}
		return nil, fmt.Errorf("no provider named %q in schema (keys: %v)", name, keys)
	case found > 1:
		return nil, fmt.Errorf("more than one provider named %q in schema", name)
	}

	inner, err := encode(renamed)
	if err != nil {
		return nil, err
	}
	doc["provider_schemas"] = bytes.TrimSpace(inner)
	return encode(doc)
}

// encode marshals v without escaping <, > and & (descriptions keep their text).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

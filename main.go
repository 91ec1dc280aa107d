// Command flareops is one binary: when Terraform (or OpenTofu) starts it as a plugin it
// serves the flareops provider; otherwise it is the flareops command line.
package main

import (
	"os"

	"github.com/monotask/flareops/provider"
	"github.com/monotask/flareops/reconciler/cli"
)

func main() {
	if provider.StartedByTerraform() {
		os.Exit(provider.Serve(cli.Version))
	}
	cli.SetMemoryPolicy()
	os.Exit(cli.Main(os.Args[1:], cli.SystemIO()))
}

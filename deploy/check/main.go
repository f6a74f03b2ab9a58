// Command check validates moisson's compose file the way `docker compose config` does (compose-go, the
// loader Docker Compose itself uses: the compose-spec JSON schema, interpolation, extends and anchors),
// then prints, per service, its image or build and its command as JSON for the caller to check further.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

type service struct {
	Name        string   `json:"name"`
	Image       string   `json:"image,omitempty"`
	Build       bool     `json:"build"`
	Command     []string `json:"command,omitempty"`
	Entrypoint  []string `json:"entrypoint,omitempty"`
	Healthcheck bool     `json:"healthcheck"`
	Volumes     []string `json:"volumes,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: check COMPOSE_FILE")
		os.Exit(2)
	}
	file, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithName("moisson"),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	var out []service
	for _, name := range project.ServiceNames() {
		s := project.Services[name]
		svc := service{Name: name, Image: s.Image, Build: s.Build != nil, Command: s.Command, Entrypoint: s.Entrypoint, Healthcheck: s.HealthCheck != nil && !s.HealthCheck.Disable}
		for _, v := range s.Volumes {
			svc.Volumes = append(svc.Volumes, v.Source+":"+v.Target)
		}
		out = append(out, svc)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose file invalid:", err)
	os.Exit(1)
}

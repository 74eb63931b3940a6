// Command krew-drift keeps plugins/krew.yaml, the krew manifest checked into
// the repository, in step with the one goreleaser generates at release time.
//
// Usage:
//
//	go run ./hack/krew-drift -template plugins/krew.yaml \
//	  -generated dist/krew/psp-migrate.yaml -dist dist [-render out.yaml]
//
// It exits 1 and lists the differences when the two disagree on anything a
// release does not fill in (everything but spec.version and each platform's
// uri and sha256). The files each platform installs are compared by what krew
// would install from the archives in -dist. With -render it also writes the
// template filled in with the generated version, uris and checksums: the
// manifest to submit to the krew index.
//
// With -partial the snapshot may have been built for some platforms only
// (`make test` builds the host's): a template platform the generated
// manifest lacks is not a difference, and -render gives it the uri
// goreleaser's naming would give its archive, keeping the template's
// placeholder sha256, so that krew's validator still checks all six.
package main

import (
	"flag"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	template := flag.String("template", "plugins/krew.yaml", "checked-in manifest template")
	generated := flag.String("generated", "dist/krew/psp-migrate.yaml", "manifest goreleaser generated")
	dist := flag.String("dist", "dist", "goreleaser dist directory holding the archives")
	renderTo := flag.String("render", "", "write the filled-in template here")
	partial := flag.Bool("partial", false, "the snapshot was built for some of the template's platforms only")
	flag.Parse()
	if err := run(*template, *generated, *dist, *renderTo, *partial); err != nil {
		fmt.Fprintf(os.Stderr, "krew-drift: %v\n", err)
		os.Exit(1)
	}
}

func run(templateFile, generatedFile, dist, renderTo string, partial bool) error {
	tmpl, err := loadManifest(templateFile)
	if err != nil {
		return err
	}
	gen, err := loadManifest(generatedFile)
	if err != nil {
		return err
	}
	if diffs := compare(tmpl, gen, distLister(dist), partial); len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintf(os.Stderr, "  %s\n", d)
		}
		return fmt.Errorf("%s and %s differ in %d place(s); edit plugins/krew.yaml and .goreleaser.yaml together", templateFile, generatedFile, len(diffs))
	}
	if renderTo == "" {
		return nil
	}
	out, err := render(tmpl, gen, partial)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode rendered manifest: %w", err)
	}
	if err := os.WriteFile(renderTo, data, 0o644); err != nil {
		return fmt.Errorf("write rendered manifest: %w", err)
	}
	return nil
}

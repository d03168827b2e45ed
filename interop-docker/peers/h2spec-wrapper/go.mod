// tunnelwire's pinned build of h2spec v2.2.1 (github.com/summerwind/h2spec, the HTTP/2 conformance tester run by
// interop-docker's H2specIT). h2spec v2.2.1 predates Go modules (it is "+incompatible" and pins its dependencies
// with dep's Gopkg.lock), so "go install ...@v2.2.1+incompatible" would take whatever dependency versions are
// newest that day; this module pins them (go.sum committed) and build-peers.sh builds the tool's main package
// from it (h2spec.wrapper_package). See ../README.md, "h2spec".
module tunnelwire.dev/interop/h2spec-wrapper

go 1.26.0

tool github.com/summerwind/h2spec/cmd/h2spec

require (
	github.com/fatih/color v1.19.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	github.com/summerwind/h2spec v2.2.1+incompatible // indirect
	golang.org/x/net v0.63.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

// Package imagebuild turns Go packages into guest images: it implements
// `morgana build` and lets `morgana run` take a package instead of a binary.
//
// A guest must be a static linux/amd64 executable without cgo, whatever the
// host is, so every build pins GOOS=linux GOARCH=amd64 CGO_ENABLED=0 (and
// -trimpath, so images do not depend on where the source was checked out)
// and checks its result with elfimage before anyone tries to run it. The go
// command does the actual work, so builds share its cache and are as fast
// as an ordinary incremental go build.
package imagebuild

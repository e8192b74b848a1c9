module github.com/morgana-os/morgana

go 1.26.3

require (
	golang.org/x/arch v0.32.0
	golang.org/x/net v0.41.0
	golang.org/x/sys v0.49.0
)

// Package bootflags gives a unikernel its boot arguments as typed flags,
// with the names MirageOS unikernels use, so that one command line
// configures an image in every mode:
//
//	morgana run --net service=tap0 ./server --ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1 -l '*:info,tcp:debug'
//
// Everything after IMAGE reaches the guest's os.Args; these flags read it
// with the standard flag package, next to the application's own flags.
package bootflags

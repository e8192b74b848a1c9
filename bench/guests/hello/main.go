// Command hello is the guest of BenchmarkBoot: the smallest useful Go program, so that a run
// measures start-up and exit and nothing else.
package main

import "fmt"

func main() {
	fmt.Println("hello, world")
}

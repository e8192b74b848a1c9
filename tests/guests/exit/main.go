// Command exit ends with the status given as its first argument. With a second argument
// "goroutine" the os.Exit call comes from another goroutine while main is blocked and other
// goroutines are busy on other threads: exit_group must end them all.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exit CODE [goroutine]")
		os.Exit(100)
	}
	code, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(100)
	}
	fmt.Printf("exiting with %d\n", code)
	if len(os.Args) > 2 && os.Args[2] == "goroutine" {
		for range 4 {
			go func() {
				for {
					time.Sleep(time.Millisecond)
				}
			}()
		}
		go func() {
			time.Sleep(10 * time.Millisecond)
			os.Exit(code)
		}()
		select {}
	}
	os.Exit(code)
}

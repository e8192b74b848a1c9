package main

import (
	"context"
	"fmt"
)

func buildCmd(argv []string) int {
	return fail(fmt.Errorf("build: not available yet"))
}

func buildPackage(ctx context.Context, dir string) (string, error) {
	return "", fmt.Errorf("%s is a directory: building packages is not available yet", dir)
}

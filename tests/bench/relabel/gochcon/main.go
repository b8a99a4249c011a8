// SPDX-License-Identifier: MIT
// gochcon: what Podman and Docker run for a :z/:Z volume: go-selinux's
// Chcon(path, label, recurse=true) from Debian's
// golang-github-opencontainers-selinux-dev.  Bench only.
package main

import (
	"fmt"
	"os"

	"github.com/opencontainers/selinux/go-selinux"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gochcon PATH LABEL")
		os.Exit(2)
	}
	if err := selinux.Chcon(os.Args[1], os.Args[2], true); err != nil {
		fmt.Fprintln(os.Stderr, "gochcon:", err)
		os.Exit(1)
	}
}

// Command plausch is the Plausch video meeting server.
package main

import (
	"fmt"
	"os"
)

const usage = `Plausch: private video meetings, self-hosted.

Usage:
  plausch serve [flags]   run the server (plausch serve --help lists the flags)
  plausch probe [flags]   join a meeting silently and report what the server forwards
  plausch loadtest [flags] synthetic participants against a server, with figures
  plausch version         print the version
`

var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "loadtest":
		os.Exit(loadtestCmd(os.Args[2:], os.Stdout))
	case "probe":
		os.Exit(probe(os.Args[2:], os.Stdout))
	case "version":
		fmt.Println("plausch", version)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "plausch: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

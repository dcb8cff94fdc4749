package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every setting the package's default settings file names is one that
// `plausch serve` reads: a renamed variable would otherwise be ignored
// without a word on every installed server.
func TestPackagedSettingsExist(t *testing.T) {
	env, err := os.ReadFile("../../packaging/plausch.env")
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	for _, f := range srcs {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	names := regexp.MustCompile(`(?m)^#?(PLAUSCH_[A-Z_]+)=`).FindAllStringSubmatch(string(env), -1)
	if len(names) < 10 {
		t.Fatalf("only %d settings found in plausch.env", len(names))
	}
	for _, m := range names {
		if !strings.Contains(code.String(), `"`+m[1]+`"`) {
			t.Errorf("packaging/plausch.env sets %s, which plausch serve does not read", m[1])
		}
	}
}

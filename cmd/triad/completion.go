package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/pkg/errors"
)

func init() {
	register("completion", "print a shell completion script: source <(triad completion bash) (bash or zsh)", completionMain)
	register("__complete", "", completeMain)
}

const bashCompletion = `# triad completion for bash (and zsh through bashcompinit)
_triad() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	COMPREPLY=($(compgen -W "$(triad __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _triad triad
`

func completionMain(args []string) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Println("usage: triad completion bash|zsh   (then: source <(triad completion bash))")
		return errHelp
	}
	if len(args) != 1 {
		return usage(errors.New("name the shell: bash or zsh"))
	}
	switch args[0] {
	case "bash":
		fmt.Print(bashCompletion)
	case "zsh":
		fmt.Print("autoload -U +X bashcompinit && bashcompinit\n" + bashCompletion)
	default:
		return usage(errors.Errorf("no completion for %q (bash, zsh)", args[0]))
	}
	return nil
}

// completeMain prints the words that may follow args: command names after
// none, else the sub-commands and flags of the command args name.
func completeMain(args []string) error {
	var words []string
	if len(args) == 0 {
		for _, n := range names() {
			words = append(words, strings.Fields(n)[0])
		}
	} else {
		name, cmd, _, ok := lookup(args)
		if !ok {
			return nil
		}
		for _, n := range names() {
			if sub, ok := strings.CutPrefix(n, name+" "); ok {
				words = append(words, sub)
			}
		}
		flags, err := flagsOf(cmd)
		if err != nil {
			return err
		}
		words = append(words, flags...)
	}
	seen := map[string]bool{}
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			fmt.Println(w)
		}
	}
	return nil
}

var flagLine = regexp.MustCompile(`^\s+(--[a-z0-9][a-z0-9.-]*)`)

// flagsOf returns the flags a command's --help lists.
func flagsOf(cmd command) ([]string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() {
		raw, _ := io.ReadAll(r)
		done <- raw
	}()
	cmd.run([]string{"--help"})
	os.Stdout = stdout
	w.Close()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(<-done))
	for sc.Scan() {
		if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, m[1])
		}
	}
	return out, nil
}

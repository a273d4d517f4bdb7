package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/pkg/errors"
)

// maxLineBytes bounds the length of an input line of the commands that read
// stdin line by line.
const maxLineBytes = 16 << 20

// eachGroup reads the lines of in (a final "\r" dropped) and writes do's
// results to out, one line each, flushed after every group: a group is a line
// and whatever else is already waiting, up to size lines, so that lines typed
// one by one are answered at once and a piped file is processed in batches.
// do gets the number of the group's first line (from 1); its error ends the
// command, named name.
func eachGroup(name string, in io.Reader, out io.Writer, size int, do func(first int, lines []string) ([]string, error)) error {
	type line struct {
		text string
		err  error
	}
	lines := make(chan line, size)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), maxLineBytes)
		for sc.Scan() {
			lines <- line{text: sc.Text()}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = errors.Errorf("a line is longer than %d bytes", maxLineBytes)
			}
			lines <- line{err: err}
		}
	}()
	w := bufio.NewWriter(out)
	defer w.Flush()
	n := 0
	for first := range lines {
		group := []line{first}
	drain: // take whatever else is already waiting, to translate it together
		for len(group) < size && group[len(group)-1].err == nil {
			select {
			case l, ok := <-lines:
				if !ok {
					break drain
				}
				group = append(group, l)
			default:
				break drain
			}
		}
		var texts []string
		var readErr error
		for _, l := range group {
			if l.err != nil {
				readErr = l.err
				break
			}
			texts = append(texts, strings.TrimSuffix(l.text, "\r"))
		}
		var outs []string
		if len(texts) > 0 { // a group may hold nothing but a read error
			var err error
			if outs, err = do(n+1, texts); err != nil {
				return err
			}
		}
		for _, t := range outs {
			fmt.Fprintln(w, t)
		}
		n += len(texts)
		if err := w.Flush(); err != nil {
			return errors.Wrap(err, name+": writing")
		}
		if readErr != nil {
			return errors.Wrapf(readErr, "%s: reading line %d", name, n+1)
		}
	}
	return nil
}

package zone

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/miekg/dns"
)

// Error is a fault in a master file, at a line of it. Its text is
// "file:line: reason", the form compilers use, so that editors jump to it.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// parseErrorRE takes apart the text of a *dns.ParseError, whose fields are
// not exported: "[file: ]dns: reason: "token" at line: L:C".
var parseErrorRE = regexp.MustCompile(`^(?:.*: )?dns: (.*?)(?:: ("(?:[^"\\]|\\.)*"))? at line: (\d+):(\d+)$`)

// fromParseError turns an error of miekg's zone parser into an *Error. The
// parser's own line is kept: it is where the lexer stood, which for a
// syntax error is the offending line.
func fromParseError(file string, err error) *Error {
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Line: 0, Err: err}
	}
	m := parseErrorRE.FindStringSubmatch(pe.Error())
	if m == nil {
		return &Error{File: file, Line: 0, Err: errors.New(pe.Error())}
	}
	line, _ := strconv.Atoi(m[3])
	reason := m[1]
	if tok := m[2]; tok != "" && tok != `""` {
		reason += " near " + tok
	}
	return &Error{File: file, Line: line, Err: errors.New(reason)}
}

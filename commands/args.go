package commands

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Arg declares one argument of a command.
type Arg struct {
	Name string
	Kind Kind
	// Optional: it may be left out. An optional argument whose word does not fit its
	// kind is skipped when a later text argument can take the word (!block @x spam:
	// no duration, reason "spam"); otherwise the command is refused with its usage.
	Optional bool
	// Lead is a word that may stand before the value and is dropped (!on for 2h).
	Lead string
	// Choices are the accepted words of a Choice, lower-case.
	Choices []string
	// Min and Max bound a Number (inclusive; Max 0: no upper bound; both 0: none).
	Min, Max int
	// MinDuration and MaxDuration bound a Duration (inclusive; zero: unbounded).
	MinDuration, MaxDuration time.Duration
}

// Kind is what an argument holds and how a typed word becomes its value. Package
// commands defines the general kinds; the core adds its own (a case reference) with
// NewKind.
type Kind struct {
	Name string
	// parse converts one word; ok false when it does not fit.
	parse func(word string, a Arg) (any, bool)
	// rest: the argument takes every remaining word (Words) or the rest of the line as
	// typed (Text).
	rest int
}

const (
	restNone = iota
	restWords
	restText
)

// NewKind defines a kind of one word, read by parse.
func NewKind(name string, parse func(word string) (value any, ok bool)) Kind {
	return Kind{Name: name, parse: func(w string, _ Arg) (any, bool) { return parse(w) }}
}

var (
	// Word is any one word, as typed.
	Word = NewKind("word", func(w string) (any, bool) { return w, true })
	// Choice is one of Arg.Choices, case-insensitively; its value is lower-case.
	Choice = Kind{Name: "choice", parse: func(w string, a Arg) (any, bool) {
		w = strings.ToLower(w)
		for _, c := range a.Choices {
			if c == w {
				return w, true
			}
		}
		return nil, false
	}}
	// Number is a whole number within Arg.Min and Arg.Max.
	Number = Kind{Name: "number", parse: func(w string, a Arg) (any, bool) {
		n, err := strconv.Atoi(w)
		bounded := a.Min != 0 || a.Max != 0
		if err != nil || bounded && n < a.Min || a.Max != 0 && n > a.Max {
			return nil, false
		}
		return n, true
	}}
	// Duration is "90m", "12h" or "30d", positive and within Arg's bounds.
	Duration = Kind{Name: "duration", parse: func(w string, a Arg) (any, bool) {
		d, ok := ParseDuration(w)
		if !ok || a.MinDuration != 0 && d < a.MinDuration || a.MaxDuration != 0 && d > a.MaxDuration {
			return nil, false
		}
		return d, true
	}}
	// MatrixID is a Matrix user ID, @name:server.
	MatrixID = NewKind("matrix-id", func(w string) (any, bool) { return w, IsMatrixID(w) })
	// Target is a person on either platform: @name:server, or irc:account.
	Target = NewKind("target", func(w string) (any, bool) { return w, IsMatrixID(w) || isIRCTarget(w) })
	// Words is one or more words to the end of the line.
	Words = Kind{Name: "words", rest: restWords}
	// Text is the rest of the line as typed, line breaks and all.
	Text = Kind{Name: "text", rest: restText}
)

// IsMatrixID reports whether s looks like a Matrix user ID.
func IsMatrixID(s string) bool {
	return strings.HasPrefix(s, "@") && strings.Contains(s, ":") && !strings.ContainsFunc(s, unicode.IsSpace)
}

func isIRCTarget(s string) bool {
	return len(s) > 4 && strings.EqualFold(s[:4], "irc:") && !strings.ContainsFunc(s, unicode.IsSpace)
}

// ParseDuration reads "90m", "12h" or "30d": a positive length of time.
func ParseDuration(s string) (time.Duration, bool) {
	s = strings.ToLower(s)
	mult := time.Duration(1)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		s, mult = n+"h", 24
	}
	d, err := time.ParseDuration(s)
	// Days are hours times 24, which must not overflow: 110000d wrapped to a
	// negative length that passed an upper bound (found by FuzzParseDuration).
	if err != nil || d <= 0 || d > math.MaxInt64/mult {
		return 0, false
	}
	return d * mult, true
}

// Args holds a call's converted arguments by name.
type Args struct {
	values map[string]any
	// Rest is everything after the command's name, as typed.
	Rest string
}

// Has reports whether an optional argument was given.
func (a Args) Has(name string) bool { _, ok := a.values[name]; return ok }

// String is a word, choice, reference, Matrix ID, target or text argument ("" when absent).
func (a Args) String(name string) string { s, _ := a.values[name].(string); return s }

// Int is a Number argument (0 when absent).
func (a Args) Int(name string) int { n, _ := a.values[name].(int); return n }

// Duration is a Duration argument (0 when absent).
func (a Args) Duration(name string) time.Duration { d, _ := a.values[name].(time.Duration); return d }

// Strings is a Words argument.
func (a Args) Strings(name string) []string { s, _ := a.values[name].([]string); return s }

// word is a word of the command line, with the line from that word on (for Text).
type word struct {
	text string
	tail string
}

func tokenize(rest string) []word {
	var out []word
	start := -1
	for i, r := range rest {
		switch {
		case unicode.IsSpace(r) && start >= 0:
			out = append(out, word{text: rest[start:i], tail: rest[start:]})
			start = -1
		case !unicode.IsSpace(r) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		out = append(out, word{text: rest[start:], tail: rest[start:]})
	}
	return out
}

// bind converts words to the declared arguments; ok false means the usage answer.
func bind(decl []Arg, words []word) (Args, bool) {
	args := Args{values: map[string]any{}}
	i := 0
	for k, a := range decl {
		if a.Lead != "" && i+1 < len(words) && strings.EqualFold(words[i].text, a.Lead) {
			i++
		}
		if i >= len(words) {
			if !a.Optional {
				return Args{}, false
			}
			continue
		}
		switch a.Kind.rest {
		case restText:
			args.values[a.Name] = strings.TrimSpace(words[i].tail)
			return args, true
		case restWords:
			ws := make([]string, 0, len(words)-i)
			for _, w := range words[i:] {
				ws = append(ws, w.text)
			}
			args.values[a.Name] = ws
			return args, true
		}
		v, ok := a.Kind.parse(words[i].text, a)
		if !ok {
			if a.Optional && laterText(decl[k+1:]) {
				continue
			}
			return Args{}, false
		}
		args.values[a.Name] = v
		i++
	}
	return args, true
}

func laterText(decl []Arg) bool {
	for _, a := range decl {
		if a.Kind.rest != restNone {
			return true
		}
	}
	return false
}

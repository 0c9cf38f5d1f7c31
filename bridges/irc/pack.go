package irc

import "strings"

// PackLines cuts a private reply into as few IRC lines as fit max bytes each. Under a
// network's flood limit (Libera.Chat allows about one line a second after a burst of
// four) every line counts: the first answer to a new requester was five lines, one per
// paragraph, so twenty people writing at once waited for a hundred. Paragraphs are
// joined with a space and filled word by word (SplitLines' cuts), with two exceptions
// that keep the reply readable: a list item starts a line of its own, and the last
// paragraph, which is what the person is asked (a safety question, say), is never cut
// in two when it fits on a line: it starts a new line rather than run across two.
func PackLines(text string, max int) []string {
	paras := SplitLines(text, 1<<30) // one per paragraph, cleaned, blank ones left out
	var out []string
	cur := ""
	flush := func() {
		if cur != "" {
			out = append(out, SplitLines(cur, max)...)
			cur = ""
		}
	}
	for i, p := range paras {
		last := i == len(paras)-1
		switch {
		case isListItem(p):
			flush()
			out = append(out, SplitLines(p, max)...)
			continue
		case last && len(p) <= max && cur != "" && len(lastLine(cur, max))+1+len(p) > max:
			// The question would run across two lines: it goes whole onto the next.
			flush()
		}
		if cur != "" {
			cur += " "
		}
		cur += p
	}
	flush()
	return out
}

// lastLine is the line the text's words would end on when cut into lines of max.
func lastLine(text string, max int) string {
	lines := SplitLines(text, max)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

func isListItem(p string) bool {
	return strings.HasPrefix(p, "- ") || strings.HasPrefix(p, "* ") || strings.HasPrefix(p, "• ")
}

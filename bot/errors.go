package bot

import "fmt"

// wrapf says what the core was doing when an error happened, layer by layer, so a
// failed turn logs a trail ("!ack: route case SB-K7Q3M: store: load person 12: …")
// rather than a bare driver error; the cause stays reachable with errors.Is and
// errors.As. The text names references and IDs, never what anyone wrote.
func wrapf(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf(format+": %w", append(args, *errp)...)
	}
}

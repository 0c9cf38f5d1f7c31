package store_test

import (
	"testing"

	"switchboard/internal/testenv"
)

// The intake offers the catalogue's languages and, once one is chosen, speaks it: a
// language without a catalogue of its own follows MediaWiki's fallback chain (Swiss
// German → German).
func TestIntakeInTheChosenLanguage(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	for _, tc := range []struct{ who, answer, summary, yes, opened, status string }{
		{"@de:localhost", "Deutsch", "Das habe ich notiert", "ja", "Deine Anfrage ist eröffnet", "wartet auf eine ehrenamtliche Person"},
		{"@es:localhost", "español", "Esto es lo que tengo", "sí", "Tu solicitud está abierta", "está esperando a una persona voluntaria"},
		{"@gsw:localhost", "gsw", "Das habe ich notiert", "ja", "Deine Anfrage ist eröffnet", "wartet auf eine ehrenamtliche Person"},
	} {
		dm := "!dm-" + tc.who[1:]
		for _, a := range []string{"hallo", "no", "no", "no", "no", "Jemand beleidigt mich ständig auf Diskussionsseiten", "none"} {
			d.send(tc.who, dm, a)
		}
		expect(t, d.send(tc.who, dm, "de.wikipedia.org"), "I can write to you in English, Deutsch, español")
		expect(t, d.send(tc.who, dm, tc.answer), tc.summary)
		expect(t, d.send(tc.who, dm, tc.yes), tc.opened)
		expect(t, d.send(tc.who, dm, "!status"), tc.status)
	}
}

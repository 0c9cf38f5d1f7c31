package pager

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
)

// Signer makes and checks the single-use tokens of the ntfy "Acknowledge" button:
// an HMAC-SHA256, under a secret only the bot knows, over the case reference, the
// staff member paged, the paging round and when that round ends. The token holds the
// reference, round and end in clear (the page says the reference anyway) but not
// who was paged: the bot finds that among the people it paged.
type Signer struct {
	secret []byte
	base   string // public URL of the acknowledgement listener, without a trailing /
}

// NewSigner makes a signer; base is the public URL that phones reach the bot at.
func NewSigner(secret, base string) *Signer {
	return &Signer{secret: []byte(secret), base: strings.TrimRight(base, "/")}
}

func (s *Signer) mac(ref, staff string, round int, ackBy int64) []byte {
	m := hmac.New(sha256.New, s.secret)
	// NUL cannot occur in a reference or a Matrix ID: the fields cannot run together.
	m.Write([]byte("switchboard-ack\x00" + ref + "\x00" + staff + "\x00" + strconv.Itoa(round) + "\x00" + strconv.FormatInt(ackBy, 10)))
	return m.Sum(nil)
}

// Token is the token for one page.
func (s *Signer) Token(ref, staff string, round int, ackBy int64) string {
	return ref + "." + strconv.Itoa(round) + "." + strconv.FormatInt(ackBy, 10) + "." +
		base64.RawURLEncoding.EncodeToString(s.mac(ref, staff, round, ackBy))
}

// URL is what the button calls.
func (s *Signer) URL(token string) string { return s.base + "/pager/ack/" + token }

type parsedToken struct {
	ref   string
	round int
	ackBy int64
	mac   []byte
	raw   string
}

var tokenRe = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9-]{0,31})\.(\d{1,4})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$`)

func parseToken(tok string) (parsedToken, bool) {
	m := tokenRe.FindStringSubmatch(tok)
	if m == nil {
		return parsedToken{}, false
	}
	round, _ := strconv.Atoi(m[2])
	ackBy, _ := strconv.ParseInt(m[3], 10, 64)
	mac, err := base64.RawURLEncoding.DecodeString(m[4])
	if err != nil {
		return parsedToken{}, false
	}
	return parsedToken{ref: m[1], round: round, ackBy: ackBy, mac: mac, raw: m[4]}, true
}

// Acker is the core's side of an acknowledgement from outside Matrix; *bot.Service is one.
type Acker interface {
	AckFromPhone(ctx context.Context, a bot.PhoneAck) (bot.PhoneAckOutcome, error)
}

// AckServer answers the ntfy button (POST /pager/ack/{token}) and an on-call tool's
// webhooks (POST /pager/webhook, PagerDuty v3 style, signed with a shared secret).
type AckServer struct {
	signer        *Signer
	webhookSecret []byte
	acker         Acker
	pager         *Pager
	log           zerolog.Logger
	// Observed, when set, counts each request's outcome (for metrics).
	Observed func(via, outcome string)
}

// NewAckServer serves acknowledgements for p's pages. webhookSecret may be empty,
// which turns the webhook endpoint off.
func NewAckServer(signer *Signer, webhookSecret string, acker Acker, p *Pager, log zerolog.Logger) *AckServer {
	return &AckServer{signer: signer, webhookSecret: []byte(webhookSecret), acker: acker, pager: p, log: log}
}

// Handler is the HTTP side.
func (a *AckServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pager/ack/{token}", a.ntfyAck)
	if len(a.webhookSecret) > 0 {
		mux.HandleFunc("POST /pager/webhook", a.webhook)
	}
	return mux
}

func (a *AckServer) observe(via string, o bot.PhoneAckOutcome) {
	if a.Observed != nil {
		a.Observed(via, string(o))
	}
}

// answer writes a short, fixed text: never the reason of a refusal, which would help
// someone guessing tokens.
func answer(w http.ResponseWriter, o bot.PhoneAckOutcome, ref string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch o {
	case bot.PhoneAcked:
		_, _ = io.WriteString(w, "Acknowledged "+ref+". Paging has stopped; the room with the requester is being set up.\n")
	case bot.PhoneAlready:
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, ref+" was already acknowledged.\n")
	default:
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "Not accepted.\n")
	}
}

func (a *AckServer) ntfyAck(w http.ResponseWriter, r *http.Request) {
	tok, ok := parseToken(r.PathValue("token"))
	req := bot.PhoneAck{Via: "ntfy"}
	if !ok {
		req.Refused = "malformed token"
	} else {
		req.Ref, req.Nonce, req.AckBy = tok.ref, tok.raw, time.UnixMilli(tok.ackBy)
		req.Match = func(staff string) bool {
			return hmac.Equal(tok.mac, a.signer.mac(tok.ref, staff, tok.round, tok.ackBy))
		}
	}
	o, err := a.acker.AckFromPhone(r.Context(), req)
	if err != nil {
		a.log.Err(err).Msg("An acknowledgement from ntfy failed")
		http.Error(w, "Try again.", http.StatusServiceUnavailable)
		return
	}
	a.observe("ntfy", o)
	answer(w, o, req.Ref)
}

// pdWebhook is the part of a PagerDuty v3 webhook that matters here.
type pdWebhook struct {
	Event struct {
		ID        string `json:"id"`
		EventType string `json:"event_type"`
		Data      struct {
			IncidentKey string `json:"incident_key"`
			Title       string `json:"title"`
		} `json:"data"`
	} `json:"event"`
}

// signedBy checks X-PagerDuty-Signature: one or more "v1=<hex HMAC-SHA256 of the
// body>", several while the secret is being rotated.
func signedBy(header string, body, secret []byte) bool {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	want := m.Sum(nil)
	for _, part := range strings.Split(header, ",") {
		sig, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		if got, err := hex.DecodeString(sig); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func (a *AckServer) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "Bad request.", http.StatusBadRequest)
		return
	}
	var ev pdWebhook
	req := bot.PhoneAck{Via: "webhook"}
	switch {
	case !signedBy(r.Header.Get("X-PagerDuty-Signature"), body, a.webhookSecret):
		req.Refused = "bad signature"
	case json.Unmarshal(body, &ev) != nil || ev.Event.ID == "":
		req.Refused = "malformed"
	}
	if req.Refused == "" {
		switch ev.Event.EventType {
		case "incident.acknowledged", "incident.resolved":
		default:
			w.WriteHeader(http.StatusNoContent) // another event: not ours to act on
			return
		}
		ref, ok := strings.CutPrefix(ev.Event.Data.IncidentKey, "switchboard-")
		if !ok || !refRe.MatchString(ref) {
			w.WriteHeader(http.StatusNoContent) // an incident Switchboard did not open
			return
		}
		req.Ref, req.Nonce = ref, ev.Event.ID
		req.Match = a.pager.hasWebhook
	}
	o, err := a.acker.AckFromPhone(r.Context(), req)
	if err != nil {
		a.log.Err(err).Msg("An acknowledgement from the on-call webhook failed")
		http.Error(w, "Try again.", http.StatusServiceUnavailable)
		return
	}
	a.observe("webhook", o)
	if req.Refused == "bad signature" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	answer(w, o, req.Ref)
}

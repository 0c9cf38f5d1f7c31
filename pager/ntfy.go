package pager

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"
)

// ntfy publishes to an ntfy topic (https://ntfy.sh or self-hosted): plain HTTP, no
// account or app store needed, and its Android and iOS apps ring through
// do-not-disturb for priority "urgent".
type ntfy struct {
	client *http.Client
	url    string // the topic URL; a secret, never shown
	token  string
	click  string // opened when the notification is tapped: the staff room
	ack    *Signer
}

func (n *ntfy) name() string { return "ntfy" }

func (n *ntfy) send(ctx context.Context, pg page) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, strings.NewReader(pg.body))
	if err != nil {
		return permanent("bad topic URL")
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	// HTTP headers are ASCII; ntfy decodes RFC 2047 words, so a translated title
	// keeps its letters. An ASCII title is sent as it is.
	req.Header.Set("Title", mime.QEncoding.Encode("utf-8", pg.title))
	req.Header.Set("Priority", "urgent")
	req.Header.Set("Tags", "rotating_light")
	if n.click != "" {
		req.Header.Set("Click", n.click)
	}
	if n.ack != nil && pg.ackBy > 0 && pg.staff != "" {
		// A button that acknowledges without opening anything; tapping the
		// notification itself still opens the staff room.
		req.Header.Set("Actions", "http, Acknowledge, "+n.ack.URL(n.ack.Token(pg.ref, pg.staff, pg.round, pg.ackBy))+", method=POST, clear=true")
	}
	if n.token != "" {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	return post(n.client, req)
}

// post sends a request and classifies the answer. The answer's body is read (so the
// connection is reused) but never looked at: it may echo the request.
func post(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return httpStatus(resp.StatusCode)
}

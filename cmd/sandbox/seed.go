package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"maunium.net/go/mautrix/id"

	"switchboard/app"
	"switchboard/config"
	"switchboard/internal/testenv"
)

// member is one account of the sandbox's team.
type member struct {
	local, password string
	display         string // display name on Matrix
	label           string // how the transcript names them
	wiki            string // wiki username, for volunteers
	id              id.UserID
	c               *testenv.Client // nil until logged in
	dm              id.RoomID       // their direct chat with the bot, if any
}

// The team. The homeserver listens on 127.0.0.1 only, so the passwords are no secret.
func newTeam() map[string]*member {
	return map[string]*member{
		"staff":       {local: "staff", password: "staff-password", display: "Sam", label: "Sam (staff)"},
		"staff2":      {local: "staff2", password: "staff2-password", display: "Kim", label: "Kim (staff)"},
		"coordinator": {local: "coordinator", password: "coordinator-password", display: "Chris", label: "Chris (coord.)"},
		"volunteer":   {local: "volunteer", password: "volunteer-password", display: "Vera", label: "Vera (volunteer)", wiki: "Vera_Volunteer"},
		"trainee":     {local: "trainee", password: "trainee-password", display: "Tomas", label: "Tomas (trainee)", wiki: "Tomas_Trainee"},
		"requester":   {local: "requester", password: "requester-password", label: "requester"},
	}
}

// sandbox is everything running: the servers, the bot, the team and their rooms.
type sandbox struct {
	o     options
	tr    *transcript // what is printed of the set-up; the demo's own goes to o.out
	pg    *testenv.Postgres
	hs    *testenv.Dendrite
	irc   *testenv.IRC
	pager *testenv.Recorder
	cfg   config.Config
	botID id.UserID
	team  map[string]*member

	staffRoom, coordRoom, volRoom id.RoomID

	mu      sync.Mutex // guards stops while things start side by side
	stops   []func()
	botDone chan error
}

func (sb *sandbox) stop() {
	for i := len(sb.stops) - 1; i >= 0; i-- {
		sb.stops[i]()
	}
}

// onStop registers a server that started to be stopped with the sandbox.
func (sb *sandbox) onStop(s interface{ Stop() }, err error) error {
	if err != nil {
		return err
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.stops = append(sb.stops, s.Stop)
	return nil
}

// parallel runs fns side by side and returns their errors, joined.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// start brings up the servers, the team's accounts and rooms, and the bot, and sets
// up the roster the way staff would: by talking to the bot.
func start(ctx context.Context, o options) (_ *sandbox, err error) {
	sb := &sandbox{o: o, team: newTeam(), tr: newTranscript(io.Discard)}
	if o.demo {
		sb.tr = newTranscript(o.out)
	}
	defer func() {
		if err != nil {
			sb.stop()
		}
	}()
	// The servers start side by side, and so do the logins: each mostly waits.
	err = parallel(
		func() (err error) { sb.pg, err = testenv.StartPostgres(); return sb.onStop(sb.pg, err) },
		func() (err error) { sb.hs, err = testenv.StartDendrite(); return sb.onStop(sb.hs, err) },
		func() (err error) { sb.irc, err = startIRC(ctx); return sb.onStop(sb.irc, err) },
	)
	if err != nil {
		return nil, err
	}
	sb.pager = testenv.StartRecorder()
	sb.stops = append(sb.stops, sb.pager.Close)

	if sb.botID, err = sb.hs.Register(ctx, "switchboard", "bot-password"); err != nil {
		return nil, err
	}
	sb.tr.names[sb.botID] = "switchboard"
	for _, m := range sb.team {
		if m.id, err = sb.hs.Register(ctx, m.local, m.password); err != nil {
			return nil, err
		}
		sb.tr.names[m.id] = m.label
	}
	// Everyone but the requester is logged in now, each with a device they
	// cross-signed as Element does at a first login: the bot takes commands and gives
	// room keys only to such devices. The requester logs in for the demo only.
	var logins []func() error
	for _, k := range []string{"staff", "staff2", "coordinator", "volunteer", "trainee"} {
		logins = append(logins, func() error { return sb.login(ctx, sb.team[k]) })
	}
	if err := parallel(logins...); err != nil {
		return nil, err
	}
	if err := sb.rooms(ctx); err != nil {
		return nil, err
	}
	if err := sb.startBot(ctx); err != nil {
		return nil, err
	}
	if err := sb.roster(ctx); err != nil {
		return nil, err
	}
	return sb, nil
}

// login logs a member in with a new, cross-signed device and a crypto store of its own.
func (sb *sandbox) login(ctx context.Context, m *member) error {
	dsn, err := sb.pg.CreateDatabase(ctx, "client_"+m.local)
	if err != nil {
		return err
	}
	c, err := testenv.Dial(ctx, sb.hs.URL(), m.id, m.password, dsn)
	if err != nil {
		return err
	}
	sb.mu.Lock()
	sb.stops = append(sb.stops, c.Close)
	sb.mu.Unlock()
	m.c = c
	if m.display != "" {
		return c.Mautrix().SetDisplayName(ctx, m.display)
	}
	return nil
}

// rooms creates the team's rooms and the volunteers' direct chats with the bot. They
// exist before the bot starts, as in a real deployment, where the operator names
// them in the configuration.
func (sb *sandbox) rooms(ctx context.Context) (err error) {
	staff, coord := sb.team["staff"], sb.team["coordinator"]
	if sb.staffRoom, err = staff.c.CreateRoom(ctx, "Switchboard staff", sb.botID, sb.team["staff2"].id); err != nil {
		return err
	}
	if sb.coordRoom, err = coord.c.CreateRoom(ctx, "Switchboard coordinators", sb.botID); err != nil {
		return err
	}
	if sb.volRoom, err = staff.c.CreateRoom(ctx, "Switchboard volunteers", sb.botID, sb.team["volunteer"].id, sb.team["trainee"].id); err != nil {
		return err
	}
	for _, k := range []string{"volunteer", "trainee"} {
		m := sb.team[k]
		if m.dm, err = m.c.CreateDM(ctx, sb.botID); err != nil {
			return err
		}
	}
	return nil
}

func (sb *sandbox) startBot(ctx context.Context) error {
	botDB, err := sb.pg.CreateDatabase(ctx, "switchboard")
	if err != nil {
		return err
	}
	t := sb.team
	cfg := config.Defaults()
	cfg.Homeserver.URL = sb.hs.URL()
	cfg.Bot.UserID, cfg.Bot.Password = sb.botID.String(), "bot-password"
	cfg.Encryption.PickleKey = "sandbox-pickle-key-not-secret"
	cfg.Encryption.DataKey = "sandbox-data-key-not-secret-0123456789"
	cfg.Database.URL = botDB
	cfg.Service.StaffRoom = sb.staffRoom.String()
	cfg.Service.Staff = []string{t["staff"].id.String(), t["staff2"].id.String()}
	cfg.Service.CoordinatorsRoom = sb.coordRoom.String()
	cfg.Service.Coordinators = []string{t["coordinator"].id.String()}
	cfg.Service.Routing.VolunteersRoom = sb.volRoom.String()
	if sb.o.broadcast {
		cfg.Service.Routing.Mode = "broadcast"
	}
	cfg.Service.OnCall.Chain = cfg.Service.Staff
	cfg.Pager.Contacts = map[string]config.PagerContact{
		t["staff"].id.String():  {Ntfy: sb.pager.URL() + "/sam-phone"},
		t["staff2"].id.String(): {Ntfy: sb.pager.URL() + "/kim-phone"},
	}
	cfg.IRC = sandboxIRC(sb.irc)
	if sb.o.demo {
		// The scripted IRC requester answers the instant a question comes, which a
		// person never does; without this her next answer would count as more of the
		// story she pasted (irc.paste-window).
		cfg.IRC.PasteWindow = 0
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	sb.cfg = cfg
	botCtx, stopBot := context.WithCancel(context.WithoutCancel(ctx))
	sb.botDone = make(chan error, 1)
	ready := make(chan struct{})
	go func() { sb.botDone <- app.Run(botCtx, &sb.cfg, sb.o.log, app.OnReady(func() { close(ready) })) }()
	sb.stops = append(sb.stops, func() {
		stopBot()
		<-sb.botDone
	})
	select {
	case <-ready:
		return nil
	case err := <-sb.botDone:
		sb.botDone <- err // for the stop above
		return fmt.Errorf("the bot did not start: %v", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// roster enrols the volunteer and the trainee as staff do, in the staff room, and has
// them tell the bot their languages; the volunteer goes on duty.
func (sb *sandbox) roster(ctx context.Context) error {
	t, tr := sb.team, sb.tr
	vol, trainee := t["volunteer"], t["trainee"]
	tr.section("Set-up: staff enrol a volunteer and a trainee")
	staffRoom := tr.room(t["staff"].c, sb.staffRoom, "staff room")
	steps := [][2]string{
		{"!volunteer add " + vol.id.String() + " " + vol.wiki, "on the roster"},
		{"!volunteer confirm " + vol.id.String(), "now trainee"},
		{"!volunteer promote " + vol.id.String(), "now active"},
		{"!volunteer add " + trainee.id.String() + " " + trainee.wiki, "on the roster"},
		{"!volunteer confirm " + trainee.id.String(), "now trainee"},
		{"!volunteer mentor " + trainee.id.String() + " " + vol.id.String(), "now mentors"},
	}
	for _, s := range steps {
		if _, err := staffRoom.talk(ctx, s[0], s[1]); err != nil {
			return err
		}
	}
	volDM := tr.room(vol.c, vol.dm, "Vera ⇄ switchboard (direct chat)")
	if _, err := volDM.talk(ctx, "!languages en", "You help in"); err != nil {
		return err
	}
	if _, err := volDM.talk(ctx, "!on for 24h", "on duty until"); err != nil {
		return err
	}
	traineeDM := tr.room(trainee.c, trainee.dm, "Tomas ⇄ switchboard (direct chat)")
	_, err := traineeDM.talk(ctx, "!languages en", "You help in")
	return err
}

// serve waits until ctx ends, printing each page the recorder receives.
func (sb *sandbox) serve(ctx context.Context) error {
	go func() {
		for n := 1; ; n++ {
			reqs, err := sb.pager.Wait(ctx, n)
			if err != nil {
				return
			}
			fmt.Fprintf(sb.o.out, "\n%s\n", describePage(reqs[n-1]))
		}
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-sb.botDone:
		sb.botDone <- err
		if err == nil {
			err = errors.New("no error")
		}
		return fmt.Errorf("the bot stopped: %v", err)
	}
}

// describePage says what a phone would have shown: who it went to and what it said.
func describePage(r testenv.Request) string {
	return fmt.Sprintf("📟 page (ntfy) %s %s — Title: %q, Priority: %s\n   %s", r.Method, r.Path,
		r.Header.Get("Title"), r.Header.Get("Priority"), strings.TrimSpace(string(r.Body)))
}

package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// from delivers one message from a device the bridge trusts as much as device says.
func (d *desk) from(device bot.DeviceTrust, sender, conv, text string, group bool) []string {
	d.t.Helper()
	in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$dt%d", d.seq.Add(1)), Sender: sender,
		Conversation: conv, Text: text, Group: group, Device: device}
	if text == bot.ReactAccept {
		in.Kind = bot.KindReaction
	}
	if err := d.svc.Handle(context.Background(), in); err != nil {
		d.t.Fatal(err)
	}
	return d.drain(conv)
}

// A phished password and a new, unsigned device act for no role: the command is
// refused with a line saying how to verify the session, and nothing changes. A
// requester is never asked to verify anything.
func TestUnverifiedDevicesActForNoRole(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	d.drain(room)
	d.drain(a)

	expect(t, d.from(bot.DeviceUnverified, "@a:localhost", a, "!accept "+ref, false), "only take this from a verified session")
	expect(t, d.from(bot.DeviceUnverified, "@a:localhost", a, bot.ReactAccept, false), "reaction cannot show")
	if st, _ := d.caseState(ref); st != "offered" {
		t.Errorf("after an unverified accept the case is %s, want offered", st)
	}
	expect(t, d.from(bot.DeviceUnverified, staff, staffRoom, "!volunteer add @mallory:localhost Mallory", true), "only take this from a verified session")
	if n := d.count(`SELECT count(*) FROM volunteers WHERE user_id = '@mallory:localhost'`); n != 0 {
		t.Error("an unverified staff device put someone on the roster")
	}
	// !help is anyone's, and a requester's own commands need no verified device.
	expect(t, d.from(bot.DeviceUnverified, alice, room, "!status", false), ref)

	// The verified device: the same command works.
	expect(t, d.from(bot.DeviceVerified, "@a:localhost", a, "!accept "+ref, false), "is yours")
}

// A helper's words reach the requester of a relayed case only from a verified device.
func TestUnverifiedHelperDeviceDoesNotReachTheRequester(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	d.drain("!case:localhost")
	d.drain(room)
	expect(t, d.from(bot.DeviceUnverified, "@a:localhost", "!case:localhost", "Hello, I am here to help (forged)", true),
		"only take this from a verified session")
	if r := d.drain(room); len(r) != 0 {
		t.Errorf("the requester got words from an unverified device: %q", r)
	}
	d.from(bot.DeviceVerified, "@a:localhost", "!case:localhost", "Hello, I am here to help", true)
	expect(t, d.drain(room), "Hello, I am here to help")
}

// A role's command signed by an identity other than the one first seen is refused,
// staff are told once, and !trust makes the bridge accept the new identity.
func TestChangedIdentityWarnsStaffOnce(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en")
	d.drain(staffRoom)
	expect(t, d.from(bot.DeviceIdentityChanged, "@a:localhost", a, "!on", false), "security keys (your identity) changed")
	notices := d.drain(staffRoom)
	expect(t, notices, "identity (cross-signing keys) of @a:localhost changed", "!trust @a:localhost")
	expect(t, d.from(bot.DeviceIdentityChanged, "@a:localhost", a, "!on", false), "security keys (your identity) changed")
	if r := d.drain(staffRoom); len(r) != 0 {
		t.Errorf("staff were told twice: %q", r)
	}
	if n := d.count(`SELECT count(*) FROM volunteers WHERE user_id = '@a:localhost' AND on_until > 0`); n != 0 {
		t.Error("a command from a changed identity took effect")
	}
	// Staff whose own identity changed cannot vouch for anyone.
	expect(t, d.from(bot.DeviceIdentityChanged, staff, staffRoom, "!trust @a:localhost", true), "security keys (your identity) changed")
	if acts := d.actions(); len(acts) != 0 {
		t.Fatalf("a changed identity ran !trust: %+v", acts)
	}
	expect(t, d.send(staff, staffRoom, "!trust @a:localhost"), "I trust the current identity of @a:localhost")
	acts := d.actions()
	if len(acts) != 1 || acts[0].Action != bot.ActionTrustIdentity || strings.Join(acts[0].Payload.Users, ",") != "@a:localhost" {
		t.Fatalf("want one trust_identity action for @a:localhost, got %+v", acts)
	}
	// A later change is news again.
	d.from(bot.DeviceIdentityChanged, "@a:localhost", a, "!on", false)
	expect(t, d.drain(staffRoom), "identity (cross-signing keys) of @a:localhost changed")
}

// Keys go to every device only where a requester reads.
func TestRequesterReads(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	a := d.volunteer("@a:localhost", "en", "!on")
	ref := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	for _, c := range []struct {
		room    string
		members []string
		want    bool
	}{
		{room, []string{alice}, true},
		{"!new:localhost", []string{"@someone:localhost"}, true},
		{a, []string{"@a:localhost"}, false},
		{"!dm-staff:localhost", []string{staff}, false},
		{staffRoom, []string{staff}, false},
		{"!group:localhost", []string{alice, "@bob:localhost"}, false},
		{"!case:localhost", []string{alice, "@a:localhost"}, true}, // shared: she is in it
	} {
		got, err := d.svc.RequesterReads(context.Background(), c.room, c.members)
		if err != nil || got != c.want {
			t.Errorf("RequesterReads(%s, %v) = %v, %v; want %v", c.room, c.members, got, err, c.want)
		}
	}
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	b := d.volunteer("@b:localhost", "en", "!on")
	ref2 := d.intake("@carla:localhost", "!dm-carla:localhost", "none", "en")
	expect(t, d.send("@b:localhost", b, "!accept "+ref2), "is yours")
	d.roomFor("!relayed:localhost")
	if got, err := d.svc.RequesterReads(context.Background(), "!relayed:localhost", []string{"@b:localhost"}); err != nil || got {
		t.Errorf("a relayed case room: RequesterReads = %v, %v; want false", got, err)
	}
}

//go:build !linux

package irc

import "net"

func withQuickAck(c net.Conn) net.Conn { return c }

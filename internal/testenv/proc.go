package testenv

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// spawnReq asks the spawner thread to start a child process.
type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawnCh   = make(chan spawnReq)
)

// startChild starts cmd with a parent-death signal, so that servers die with
// the test binary even when it panics or hits -timeout and no cleanup runs.
// Linux sends that signal when the forking *thread* exits, not the process, so
// every child is forked from one goroutine locked to a thread that never exits.
func startChild(cmd *exec.Cmd, deathSig syscall.Signal) error {
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: see above
			for req := range spawnCh {
				req.done <- req.cmd.Start()
			}
		}()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = deathSig
	req := spawnReq{cmd: cmd, done: make(chan error, 1)}
	spawnCh <- req
	return <-req.done
}

// child is a started server process whose exit is observed through Wait,
// because a zombie still answers kill -0.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // valid once exited is closed
}

func startWatched(cmd *exec.Cmd, deathSig syscall.Signal) (*child, error) {
	if err := startChild(cmd, deathSig); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// stop sends sig and waits up to grace before killing the process outright.
func (c *child) stop(sig syscall.Signal, grace time.Duration) {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

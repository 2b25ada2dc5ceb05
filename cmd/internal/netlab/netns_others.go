//go:build !linux

package netlab

import "syscall"

type nsHandle int

const noHandle nsHandle = -1

func supported() error { return ErrUnsupported }

func openNamespace(string) (nsHandle, error) { return noHandle, ErrUnsupported }

func (nsHandle) close() error { return nil }

func (nsHandle) do(func() error) error { return ErrUnsupported }

func processAlive(int) bool { return true }

func sysProcAttr() *syscall.SysProcAttr { return nil }

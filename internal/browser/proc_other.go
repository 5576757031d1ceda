//go:build !unix

package browser

import "os/exec"

func setGroup(*exec.Cmd)  {}
func killGroup(*exec.Cmd) {}

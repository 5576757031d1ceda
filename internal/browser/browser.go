// Package browser drives a headless Chromium for tests of web pages: it
// loads a URL, lets the page's scripts run, and returns the resulting DOM
// or a screenshot.
//
// DumpDOM and Screenshot shell out to the chromium binary (Debian package
// "chromium") and capture the page after a budget of virtual time; Open
// keeps a tab open and drives it over the DevTools protocol on a pipe, for
// tests that act on a live page and wait for it to change. Neither needs
// a dependency. Tests should call Find first and skip when it fails.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// EnvBinary names an environment variable that, when set, overrides the
// browser binary Find returns.
const EnvBinary = "GOMESOS_CHROMIUM"

// VirtualTimeBudget is the virtual time, in milliseconds, Chromium lets a
// page's timers and network activity run before DumpDOM and Screenshot
// capture it.
const VirtualTimeBudget = 5000

// candidates are the binary names Find looks up in PATH, in order.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// fallbacks are absolute paths Find tries when PATH has none of candidates.
var fallbacks = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

// Find returns the path of a Chromium (or Google Chrome) binary able to run
// headless: $GOMESOS_CHROMIUM if set, else chromium, chromium-browser or
// google-chrome from PATH, else /usr/bin/chromium. Its error tells how to
// install one.
func Find() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
		return "", fmt.Errorf("browser: $%s=%q is not an executable", EnvBinary, p)
	}
	for _, name := range candidates {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	for _, path := range fallbacks {
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", errors.New("browser: no headless Chromium found (looked for " +
		strings.Join(candidates, ", ") + " in PATH and " + strings.Join(fallbacks, ", ") +
		"); install the Debian package \"chromium\" (apt-get install -y chromium)")
}

// DumpDOM loads url in a headless Chromium, lets its scripts run for
// VirtualTimeBudget milliseconds of virtual time, and returns the
// serialized DOM (document.documentElement.outerHTML). The browser is
// killed when ctx is done; errors include Chromium's stderr.
func DumpDOM(ctx context.Context, url string) (string, error) {
	out, err := run(ctx, "--dump-dom", url)
	if err != nil {
		return "", fmt.Errorf("browser: dump DOM of %s: %w", url, err)
	}
	return out, nil
}

// Screenshot loads url in a headless Chromium with a window of width x
// height pixels, lets its scripts run as DumpDOM does, and writes a PNG
// screenshot to file. The browser is killed when ctx is done; errors
// include Chromium's stderr.
func Screenshot(ctx context.Context, url, file string, width, height int) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("browser: screenshot of %s: bad window size %dx%d", url, width, height)
	}
	_ = os.Remove(file) // so that a stale file does not pass for a fresh one
	_, err := run(ctx, "--screenshot="+file, fmt.Sprintf("--window-size=%d,%d", width, height), url)
	if err != nil {
		return fmt.Errorf("browser: screenshot of %s: %w", url, err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("browser: screenshot of %s: chromium wrote no %s: %w", url, file, err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return fmt.Errorf("browser: screenshot of %s: %s is not a PNG (%d bytes)", url, file, len(b))
	}
	return nil
}

// run starts Chromium headless with a throwaway profile and args appended
// to the common flags, and returns its stdout.
func run(ctx context.Context, args ...string) (string, error) {
	bin, err := Find()
	if err != nil {
		return "", err
	}
	profile, err := os.MkdirTemp("", "gomesos-chromium-")
	if err != nil {
		return "", fmt.Errorf("create profile directory: %w", err)
	}
	defer os.RemoveAll(profile)

	argv := append(commonArgs(profile), fmt.Sprintf("--virtual-time-budget=%d", VirtualTimeBudget))
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "HOME="+profile) // keep caches out of the real home
	setGroup(cmd)
	// Helpers Chromium forks may hold the output pipes open after the
	// browser itself was killed; don't wait for them forever.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	killGroup(cmd)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return "", fmt.Errorf("%s: %w; stderr: %s", bin, err, tail(stderr.String(), 4000))
	}
	return stdout.String(), nil
}

// commonArgs are the flags every headless Chromium gets: a throwaway
// profile, no sandbox (tests run as root), nothing in the background.
func commonArgs(profile string) []string {
	return []string{
		"--headless=new",
		"--no-sandbox", // we run as root
		"--disable-gpu",
		"--disable-dev-shm-usage",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-sync",
		"--metrics-recording-only",
		"--mute-audio",
		"--hide-scrollbars",
		"--user-data-dir=" + profile,
	}
}

// tail returns the last n bytes of s, trimmed.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	if s == "" {
		return "(empty)"
	}
	return s
}

package browser

import (
	"fmt"
	"os"
)

// EnvArtifacts names the environment variable that, when set, is the
// directory where tests leave files for a person to look at
// (screenshots, simulator trace pages); CI keeps it.
const EnvArtifacts = "GOMESOS_ARTIFACTS"

// ArtifactsDir returns $GOMESOS_ARTIFACTS, created if need be, or
// fallback when it is not set.
func ArtifactsDir(fallback string) (string, error) {
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		return fallback, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("browser: artifacts directory: %w", err)
	}
	return dir, nil
}

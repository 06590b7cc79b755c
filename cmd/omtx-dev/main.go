// Command omtx-dev runs the whole OMTX-Hub system on one machine, for real:
// the temporal CLI's dev server with its Web UI, the Cloud Firestore
// emulator, fake-gcs-server, and OMTX-Hub's API, orchestration worker and a
// GPU worker on the CPU. make dev runs it; Ctrl-C stops all of it.
//
// State lives under .omtx/: Temporal's SQLite file and the GCS objects
// persist across restarts; Firestore is snapshotted every 5 seconds
// (devstack.SnapshotEvery) and on a clean exit, and imported at the next
// start. The services die with this process even when it is killed hard
// (devstack), and this process stops them cleanly, as on Ctrl-C, when the
// process that started it (go run, a shell) dies.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/worker"
	"github.com/omtx-hub/omtx-hub/worker/gpuworker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "omtx-dev:", err)
		os.Exit(1)
	}
}

func run() error {
	state := flag.String("state", ".omtx", "state folder")
	tools := flag.String("tools", ".tools", "tools folder (scripts/install-tools.sh)")
	apiAddr := flag.String("api-addr", "127.0.0.1:8080", "API listen address")
	temporalPort := flag.Int("temporal-port", 7233, "Temporal gRPC port")
	uiPort := flag.Int("ui-port", 8233, "Temporal Web UI port")
	fsPort := flag.Int("firestore-port", 8081, "Firestore emulator port")
	gcsPort := flag.Int("gcs-port", 4443, "fake-gcs-server port")
	flag.Parse()

	if err := devstack.DieWithParent(syscall.SIGTERM); err != nil {
		return err
	}
	if err := os.MkdirAll(*state, 0o700); err != nil {
		return err
	}
	user := os.Getenv("OMTX_DEV_USER")
	if user == "" {
		// The seed plan's example requests name this user.
		user = "test_user_001"
	}
	key, err := secretFile(filepath.Join(*state, "dev-api-key"), "omtx_dev_")
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println("omtx-dev: starting Firestore emulator, fake-gcs-server and Temporal dev server ...")
	stack, err := devstack.Start(ctx, devstack.Options{
		Dir: *state, ToolsDir: *tools, Project: envOr("OMTX_PROJECT", config.DefaultProject),
		TemporalPort: *temporalPort, TemporalUIPort: *uiPort, FirestorePort: *fsPort, GCSPort: *gcsPort,
		PersistFirestore: true, Log: os.Stderr,
	})
	if err != nil {
		return err
	}
	defer stack.Stop()
	go stack.PersistLoop(ctx, devstack.SnapshotEvery)
	// The Google and Temporal clients read the emulators' addresses from
	// the environment; OMTX-Hub's own settings come from config.Load, with
	// the local stack's values under whatever the environment sets.
	stack.SetEnv()
	secret, err := secretFile(filepath.Join(*state, "dev-webhook-secret"), "")
	if err != nil {
		return err
	}
	local := map[string]string{
		"OMTX_API_ADDR": *apiAddr,
		"OMTX_API_KEYS": devKeys(key, user, os.Getenv("OMTX_API_KEYS")),
		// Boltz-2 is not installed by make dev: requests for it are served
		// by the descriptor baseline, and every such job and result says so.
		"OMTX_MODEL_SUBSTITUTES":      omtx.ModelBoltz2 + "=" + omtx.BaselineModel,
		"OMTX_METRICS_ADDR":           "127.0.0.1:9090",
		"ONNXRUNTIME_LIB":             filepath.Join(*tools, "lib", "libonnxruntime.so"),
		"OMTX_WEBHOOK_SECRET":         secret,
		"OMTX_WEBHOOK_ALLOW_LOOPBACK": "true",
	}
	cfg, err := config.Load(func(k string) string {
		if v := os.Getenv(k); v != "" && k != "OMTX_API_KEYS" && k != "OMTX_API_ADDR" {
			return v
		}
		return local[k]
	})
	if err != nil {
		return err
	}
	log := app.Logger(cfg.LogLevel)
	models, closeModels, err := gpuworker.Models(cfg, log.With("service", "gpu-worker"))
	if err != nil {
		return err
	}
	defer closeModels()
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	app.ServeMetrics(ctx, cfg, d.Health, log)
	defer d.Close()

	fmt.Printf(`
OMTX-Hub is up.
  API            http://%s   (user %s)
  API key        %s   (also in %s)
  Temporal UI    %s
  Temporal gRPC  %s
  Firestore      %s (emulator)
  GCS            %s (fake-gcs-server, bucket %s)
  Metrics        http://%s/metrics
  Models         %s; requests for %q are served by the baseline and say so
Press Ctrl-C to stop.

`, cfg.APIAddr, user, key, filepath.Join(*state, "dev-api-key"), stack.TemporalUI(), stack.TemporalAddress(),
		stack.FirestoreHost(), stack.GCSHost(), cfg.Bucket, cfg.MetricsAddr, modelNames(models), omtx.ModelBoltz2)

	err = app.RunRoles(ctx, cfg, d, log, apiapp.Run, worker.Orchestration,
		func(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
			return worker.RunGPU(ctx, cfg, d, models, log)
		})
	fmt.Println("omtx-dev: stopping ...")
	return err
}

// secretFile reads a local secret from path, creating it (prefix and 48
// random hex digits) on first use.
func secretFile(path, prefix string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	var r [24]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	s := prefix + hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

// devKeys lists the local key, with a generous quota and every priority,
// and any keys the environment adds (short form).
func devKeys(key, user, extra string) string {
	spec := fmt.Sprintf("keys:\n  - key: %q\n    user: %q\n    priorities: [low, normal, high]\n    submit_rate: 200\n    max_concurrent_batches: 20\n    max_inflight_ligands: 1000000\n", key, user)
	for _, e := range strings.FieldsFunc(extra, func(r rune) bool { return r == ',' || r == '\n' }) {
		if i := strings.LastIndexByte(e, '='); i > 0 {
			spec += fmt.Sprintf("  - key: %q\n    user: %q\n", strings.TrimSpace(e[:i]), strings.TrimSpace(e[i+1:]))
		}
	}
	return spec
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func modelNames(models map[string]activities.Predictor) string {
	var names []string
	for n, m := range models {
		names = append(names, n+" ("+m.Info().Kind+")")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

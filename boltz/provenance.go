package boltz

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Checkpoints are the weight files Boltz-2 loads from its cache
// (boltz/main.py: boltz2_conf.ckpt for structure and confidence,
// boltz2_aff.ckpt for affinity).
var Checkpoints = []string{"boltz2_conf.ckpt", "boltz2_aff.ckpt"}

// provenance finds out which Boltz ran: the installed package's version,
// and the digests of the checkpoint files in the cache. Each is found once
// and remembered; checkpoints are looked for again until they exist (Boltz
// downloads them on its first run).
type provenance struct {
	binary, cache string

	versionOnce sync.Once
	version     string

	mu          sync.Mutex
	checkpoints string

	// gpu is the configured GPU name; accelerator is --accelerator.
	gpu, accelerator string
	gpuOnce          sync.Once
}

// installedVersion asks the boltz executable's own Python for the version
// of the installed boltz package ("boltz 2.2.1"), or "" when it cannot: the
// executable is a console script whose first line names its interpreter.
func (p *provenance) installedVersion() string {
	p.versionOnce.Do(func() {
		f, err := os.Open(p.binary)
		if err != nil {
			return
		}
		line, _ := bufio.NewReader(io.LimitReader(f, 512)).ReadString('\n')
		f.Close()
		interp, ok := strings.CutPrefix(strings.TrimSpace(line), "#!")
		if !ok || interp == "" {
			return
		}
		args := strings.Fields(interp)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args = append(args, "-c", "import importlib.metadata as m; print(m.version('boltz'))")
		out, err := exec.CommandContext(ctx, args[0], args[1:]...).Output()
		if v := strings.TrimSpace(string(out)); err == nil && v != "" && !strings.ContainsAny(v, " \n") {
			p.version = "boltz " + v
		}
	})
	return p.version
}

// checkpointDigests names the checkpoint files and their SHA-256 digests,
// once all exist.
func (p *provenance) checkpointDigests() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checkpoints != "" || p.cache == "" {
		return p.checkpoints
	}
	var parts []string
	for _, name := range Checkpoints {
		f, err := os.Open(filepath.Join(p.cache, name))
		if err != nil {
			return ""
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return ""
		}
		parts = append(parts, fmt.Sprintf("%s sha256:%s (%d bytes)", name, hex.EncodeToString(h.Sum(nil)), n))
	}
	p.checkpoints = strings.Join(parts, "; ")
	return p.checkpoints
}

// gpuName is the accelerator's name: the configured one, "cpu" for the
// cpu accelerator, else the first GPU's name as nvidia-smi reports it
// ("NVIDIA H100 80GB HBM3"), asked once; "" when none answers.
func (p *provenance) gpuName() string {
	p.gpuOnce.Do(func() {
		if p.gpu != "" {
			return
		}
		if p.accelerator == "cpu" {
			p.gpu = "cpu"
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name", "--format=csv,noheader").Output()
		if err != nil {
			return
		}
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		p.gpu = strings.TrimSpace(first)
	})
	return p.gpu
}

// cacheDir is where Boltz keeps its weights: --cache, else $BOLTZ_CACHE,
// else ~/.boltz (boltz/main.py's get_cache_path).
func cacheDir(configured string) string {
	if configured != "" {
		return configured
	}
	if env := os.Getenv("BOLTZ_CACHE"); env != "" {
		return env
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".boltz")
}

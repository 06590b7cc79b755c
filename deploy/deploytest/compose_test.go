package deploytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const composeFile = "docker-compose.temporal.yml"

type composeService struct {
	Image       string                       `json:"image,omitempty"`
	Build       *composeBuild                `json:"build,omitempty"`
	Command     any                          `json:"command,omitempty"`
	Entrypoint  any                          `json:"entrypoint,omitempty"`
	Environment map[string]string            `json:"environment,omitempty"`
	Ports       []string                     `json:"ports,omitempty"`
	Volumes     []string                     `json:"volumes,omitempty"`
	DependsOn   map[string]composeDependency `json:"depends_on,omitempty"`
	Healthcheck *struct {
		Test        []string `json:"test"`
		Interval    string   `json:"interval,omitempty"`
		Timeout     string   `json:"timeout,omitempty"`
		Retries     int      `json:"retries,omitempty"`
		StartPeriod string   `json:"start_period,omitempty"`
	} `json:"healthcheck,omitempty"`
	Restart  string `json:"restart,omitempty"`
	Platform string `json:"platform,omitempty"`
}

type composeBuild struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile"`
	Args       map[string]string `json:"args,omitempty"`
}

type composeDependency struct {
	Condition string `json:"condition"`
}

type compose struct {
	Name     string
	Services map[string]composeService
	Volumes  map[string]any
}

// loadCompose decodes the compose file: top-level keys are name, services,
// volumes and x-* extensions; services decode strictly.
func loadCompose(t testing.TB) *compose {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(readFile(t, composeFile)))
	require.NoError(t, err)
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(j, &top))
	c := &compose{}
	for k, v := range top {
		switch {
		case k == "name":
			require.NoError(t, json.Unmarshal(v, &c.Name))
		case k == "services":
			require.NoError(t, strictJSON(v, &c.Services))
		case k == "volumes":
			require.NoError(t, json.Unmarshal(v, &c.Volumes))
		case strings.HasPrefix(k, "x-"):
		default:
			t.Fatalf("%s: unexpected top-level key %q", composeFile, k)
		}
	}
	require.NotEmpty(t, c.Services)
	return c
}

var interpRe = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate resolves compose's interpolation with an empty environment:
// ${VAR:-default} gives the default, $$ a literal $. A bare or required
// variable is an error: the stack must come up with nothing set.
func interpolate(s string) (string, error) {
	var err error
	out := interpRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := interpRe.FindStringSubmatch(m)
		switch {
		case g[2] == ":-" || g[2] == "-":
			return g[3]
		case g[2] == ":?" || g[2] == "?":
			err = fmt.Errorf("%s is required", g[1])
		default:
			err = fmt.Errorf("%s has no default", m)
		}
		return ""
	})
	return out, err
}

func mustInterp(t testing.TB, s string) string {
	t.Helper()
	out, err := interpolate(s)
	require.NoError(t, err, "%q", s)
	return out
}

// cmdline is a command or entrypoint as one string.
func cmdline(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case []any:
		var parts []string
		for _, x := range c {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// oneShot are services that run to completion.
var oneShot = map[string]bool{"temporal-admin-tools": true}

// appServices are built from this repository's Dockerfiles.
var appServices = map[string]string{"api": "Dockerfile.api", "worker": "Dockerfile.worker", "gpu-worker": "Dockerfile.gpu-worker"}

func TestCompose(t *testing.T) {
	c := loadCompose(t)
	known := configEnv(t)

	t.Run("every service the code needs", func(t *testing.T) {
		for _, s := range []string{"postgresql", "temporal", "temporal-admin-tools", "temporal-ui", "firestore", "gcs", "api", "worker", "gpu-worker"} {
			assert.Contains(t, c.Services, s)
		}
	})
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		t.Run(name, func(t *testing.T) {
			t.Run("image pinned or built here", func(t *testing.T) {
				if df, ok := appServices[name]; ok {
					require.NotNil(t, s.Build, "%s is built from %s", name, df)
					assert.Equal(t, ".", s.Build.Context)
					assert.Equal(t, df, s.Build.Dockerfile)
					if s.Image != "" {
						assert.Empty(t, pinned(s.Image))
					}
					return
				}
				assert.Nil(t, s.Build)
				require.NotEmpty(t, s.Image)
				assert.Empty(t, pinned(s.Image), "%s %s", s.Image, pinned(s.Image))
			})
			t.Run("healthcheck and restart policy", func(t *testing.T) {
				if oneShot[name] {
					assert.Equal(t, "no", s.Restart, "a one-shot must not restart")
					return
				}
				require.NotNil(t, s.Healthcheck, "long-running services need a healthcheck")
				require.NotEmpty(t, s.Healthcheck.Test)
				assert.Contains(t, []string{"CMD", "CMD-SHELL"}, s.Healthcheck.Test[0])
				assert.Equal(t, "unless-stopped", s.Restart)
			})
			t.Run("depends_on waits for health or completion", func(t *testing.T) {
				for dep, d := range s.DependsOn {
					target, ok := c.Services[dep]
					require.True(t, ok, "depends on unknown service %s", dep)
					if oneShot[dep] {
						assert.Equal(t, "service_completed_successfully", d.Condition, "%s -> %s", name, dep)
					} else {
						assert.Equal(t, "service_healthy", d.Condition, "%s -> %s", name, dep)
						assert.NotNil(t, target.Healthcheck, "%s waits for %s to be healthy, which has no healthcheck", name, dep)
					}
				}
			})
			t.Run("interpolation works with an empty environment", func(t *testing.T) {
				for _, v := range s.Environment {
					mustInterp(t, v)
				}
				for _, p := range s.Ports {
					mustInterp(t, p)
				}
				mustInterp(t, cmdline(s.Command))
				if s.Build != nil {
					for _, v := range s.Build.Args {
						mustInterp(t, v)
					}
				}
			})
			if _, ok := appServices[name]; ok {
				t.Run("env vars are ones the code reads", func(t *testing.T) {
					for _, k := range sortedKeys(s.Environment) {
						assert.True(t, known[k], "%s sets %s, which config/config.go does not read", name, k)
					}
				})
			}
		})
	}

	env := func(svc, k string) string { return mustInterp(t, c.Services[svc].Environment[k]) }
	published := func(svc string) map[string]string {
		out := map[string]string{}
		for _, p := range c.Services[svc].Ports {
			host, ctr, ok := strings.Cut(mustInterp(t, p), ":")
			require.True(t, ok, "port %q: publish host:container", p)
			out[ctr] = host
		}
		return out
	}
	dev := devPorts(t)

	t.Run("ports agree with the config defaults and make dev", func(t *testing.T) {
		apiPort := portOf(t, config.DefaultAPIAddr)
		assert.Equal(t, apiPort, portOf(t, env("api", "OMTX_API_ADDR")))
		assert.Equal(t, "0.0.0.0", strings.Split(env("api", "OMTX_API_ADDR"), ":")[0])
		assert.Equal(t, apiPort, published("api")[apiPort])

		temporalPort := portOf(t, config.DefaultTemporalAddress)
		assert.Equal(t, dev["temporal-port"], temporalPort)
		assert.Equal(t, temporalPort, published("temporal")[temporalPort])
		assert.Equal(t, dev["ui-port"], published("temporal-ui")["8080"], "Temporal UI on 8233 as with make dev")
		assert.Equal(t, dev["firestore-port"], published("firestore")[dev["firestore-port"]])
		assert.Equal(t, dev["gcs-port"], published("gcs")[dev["gcs-port"]])
		for _, svc := range []string{"api", "worker", "gpu-worker"} {
			assert.Equal(t, "9090", portOf(t, env(svc, "OMTX_METRICS_ADDR")), svc)
		}
	})
	t.Run("app services reach the other containers", func(t *testing.T) {
		for svc := range appServices {
			assert.Equal(t, "temporal:"+portOf(t, config.DefaultTemporalAddress), env(svc, "TEMPORAL_ADDRESS"), svc)
			fs := env(svc, "FIRESTORE_EMULATOR_HOST")
			assert.Equal(t, "firestore:"+dev["firestore-port"], fs, svc)
			gcs, err := url.Parse(env(svc, "STORAGE_EMULATOR_HOST"))
			require.NoError(t, err)
			assert.Equal(t, "http", gcs.Scheme)
			assert.Equal(t, "gcs:"+dev["gcs-port"], gcs.Host, svc)
			assert.Equal(t, config.DefaultBucket, env(svc, "OMTX_BUCKET"), svc)
			assert.NotEmpty(t, env(svc, "OMTX_PROJECT"), svc)
			assert.Equal(t, "boltz2=descriptor-baseline-v1", env(svc, "OMTX_MODEL_SUBSTITUTES"), svc)
			for dep := range map[string]bool{"temporal": true, "firestore": true, "gcs": true, "temporal-admin-tools": true} {
				assert.Contains(t, c.Services[svc].DependsOn, dep, "%s must wait for %s", svc, dep)
			}
		}
		assert.Contains(t, cmdline(c.Services["firestore"].Command), "gcloud emulators firestore start --host-port=0.0.0.0:"+dev["firestore-port"])
		gcsCmd := mustInterp(t, cmdline(c.Services["gcs"].Command))
		for _, want := range []string{"-scheme http", "-backend filesystem", "-public-host gcs:" + dev["gcs-port"], "-port " + dev["gcs-port"]} {
			assert.Contains(t, gcsCmd, want)
		}
	})
	t.Run("Temporal on PostgreSQL with the search attributes", func(t *testing.T) {
		assert.Equal(t, "postgres12", env("temporal", "DB"))
		assert.Equal(t, "postgresql", env("temporal", "POSTGRES_SEEDS"))
		assert.Regexp(t, `^postgres:16\.\d+$`, c.Services["postgresql"].Image)
		assert.Regexp(t, `^temporalio/auto-setup:`, c.Services["temporal"].Image)
		assert.Regexp(t, `^temporalio/ui:`, c.Services["temporal-ui"].Image)
		assert.Regexp(t, `^gcr\.io/google\.com/cloudsdktool/google-cloud-cli:[0-9.]+-emulators$`, c.Services["firestore"].Image)
		assert.Regexp(t, `^fsouza/fake-gcs-server:`, c.Services["gcs"].Image)
		admin := c.Services["temporal-admin-tools"]
		script := mustInterp(t, cmdline(admin.Entrypoint)+"\n"+cmdline(admin.Command))
		checkRegistersSearchAttributes(t, script)
		assert.Equal(t, env("temporal-admin-tools", "TEMPORAL_NAMESPACE"), env("api", "TEMPORAL_NAMESPACE"))
	})
	t.Run("the API key default is usable and documented", func(t *testing.T) {
		keys := env("api", "OMTX_API_KEYS")
		for _, entry := range strings.Split(keys, ",") {
			k, u, ok := strings.Cut(entry, "=")
			assert.True(t, ok && len(k) >= 16 && u != "", "default OMTX_API_KEYS entry %q must be key=user with 16+ characters", entry)
			assert.Contains(t, readFile(t, composeFile), "Bearer "+k, "the compose file documents the local key")
		}
	})
	t.Run("GPU worker on the CPU, paths from its Dockerfile", func(t *testing.T) {
		g := c.Services["gpu-worker"]
		assert.Equal(t, "cpu", env("gpu-worker", "OMTX_ORT_PROVIDER"))
		assert.Equal(t, "false", env("gpu-worker", "OMTX_REQUIRE_GPU"))
		assert.Equal(t, "false", g.Build.Args["INSTALL_BOLTZ"])
		assert.Contains(t, g.Build.Args, "ORT_SHA256")
		df := parseDockerfile(t, "Dockerfile.gpu-worker")
		denv := df.env(df.final())
		for _, k := range []string{"ONNXRUNTIME_LIB", "OMTX_MODEL_BUNDLE"} {
			assert.Equal(t, denv[k], env("gpu-worker", k), k)
		}
	})
	t.Run("app healthchecks use the image's probe on the right ports", func(t *testing.T) {
		for svc, dfName := range appServices {
			hc := c.Services[svc].Healthcheck
			require.NotNil(t, hc)
			df := parseDockerfile(t, dfName)
			require.GreaterOrEqual(t, len(hc.Test), 2)
			_, ok := df.copyDests(df.final())[hc.Test[1]]
			assert.True(t, ok, "%s's healthcheck runs %s, which its image lacks", svc, hc.Test[1])
			line := strings.Join(hc.Test, " ")
			if svc == "api" {
				assert.Contains(t, line, "OMTX_API_ADDR")
			} else {
				assert.Contains(t, line, "OMTX_METRICS_ADDR")
				assert.Contains(t, line, "/readyz", "a worker is healthy when it polls, not when /metrics answers")
			}
		}
	})
	t.Run("the fleet is what the stack serves", func(t *testing.T) {
		for svc := range appServices {
			assert.Equal(t, "linux/amd64", c.Services[svc].Platform, "%s: the images are x86-64", svc)
		}
		fleet, err := omtx.ParseFleet(env("api", "OMTX_GPU_CLASSES"))
		require.NoError(t, err, "OMTX_GPU_CLASSES must be set (the default fleet names a100-80g)")
		served := map[string]bool{env("gpu-worker", "OMTX_GPU_CLASS"): true}
		for _, cl := range fleet {
			assert.True(t, served[cl.Name], "OMTX_GPU_CLASSES names %s, which no service of the stack serves: reroutes to it would wait forever", cl.Name)
		}
		for svc := range appServices {
			assert.Equal(t, env("api", "OMTX_GPU_CLASSES"), env(svc, "OMTX_GPU_CLASSES"), svc)
		}
	})
	t.Run("interpolation helper", func(t *testing.T) {
		out, err := interpolate("a ${X:-b} $$c")
		require.NoError(t, err)
		assert.Equal(t, "a b $c", out)
		_, err = interpolate("${X:?set X}")
		assert.Error(t, err)
		_, err = interpolate("${X}")
		assert.Error(t, err)
	})
}

var devFlag = regexp.MustCompile(`flag\.Int\("([a-z-]+-port)", (\d+),`)

// devPorts are make dev's default ports (cmd/omtx-dev flags).
func devPorts(t testing.TB) map[string]string {
	out := map[string]string{}
	for _, m := range devFlag.FindAllStringSubmatch(readFile(t, "cmd", "omtx-dev", "main.go"), -1) {
		out[m[1]] = m[2]
	}
	for _, k := range []string{"temporal-port", "ui-port", "firestore-port", "gcs-port"} {
		require.Contains(t, out, k, "cmd/omtx-dev/main.go has no -%s flag default", k)
	}
	return out
}

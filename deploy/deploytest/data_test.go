package deploytest

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// --- Firestore indexes ---

type firestoreIndexes struct {
	Indexes []struct {
		CollectionGroup string `json:"collectionGroup"`
		QueryScope      string `json:"queryScope"`
		Fields          []struct {
			FieldPath   string `json:"fieldPath"`
			Order       string `json:"order,omitempty"`
			ArrayConfig string `json:"arrayConfig,omitempty"`
		} `json:"fields"`
	} `json:"indexes"`
	FieldOverrides []any `json:"fieldOverrides"`
}

// requiredIndexes are the composite indexes the jobs queries need
// (store/jobs.go: List filters user_id, optionally job_type "in" and
// status, ordered by created_at desc, job_id desc; ListChildren filters
// batch_parent_id, optionally status, ordered by batch_index), plus the
// seed's (5.1); ListFailed (status, updated_at, for omtx-worker requeue);
// and the targets query (store/targets.go: List filters
// user_id, ordered by created_at desc, target_id desc).
var requiredIndexes = []string{
	"targets: user_id ASCENDING, created_at DESCENDING, target_id DESCENDING",
	"batch_parent_id ASCENDING, created_at DESCENDING",
	"batch_parent_id ASCENDING, batch_index ASCENDING",
	"batch_parent_id ASCENDING, status ASCENDING, batch_index ASCENDING",
	"user_id ASCENDING, created_at DESCENDING, job_id DESCENDING",
	"user_id ASCENDING, status ASCENDING, created_at DESCENDING, job_id DESCENDING",
	"user_id ASCENDING, job_type ASCENDING, created_at DESCENDING, job_id DESCENDING",
	"user_id ASCENDING, job_type ASCENDING, status ASCENDING, created_at DESCENDING, job_id DESCENDING",
	"status ASCENDING, updated_at ASCENDING",
}

func TestFirestoreIndexes(t *testing.T) {
	var fi firestoreIndexes
	require.NoError(t, strictJSON([]byte(readFile(t, "deploy", "firestore", "firestore.indexes.json")), &fi))
	have := map[string]bool{}
	for _, ix := range fi.Indexes {
		var parts []string
		for _, f := range ix.Fields {
			assert.Contains(t, []string{"ASCENDING", "DESCENDING"}, f.Order, "field %s", f.FieldPath)
			parts = append(parts, f.FieldPath+" "+f.Order)
		}
		key := strings.Join(parts, ", ")
		if ix.CollectionGroup == omtx.TargetsCollection {
			key = omtx.TargetsCollection + ": " + key
		}
		t.Run(key, func(t *testing.T) {
			assert.Contains(t, []string{omtx.JobsCollection, omtx.TargetsCollection}, ix.CollectionGroup)
			assert.Equal(t, "COLLECTION", ix.QueryScope)
			assert.GreaterOrEqual(t, len(ix.Fields), 2, "single-field indexes are automatic")
			assert.False(t, have[key], "duplicate index")
		})
		have[key] = true
	}
	for _, want := range requiredIndexes {
		assert.True(t, have[want], "missing index %s", want)
	}
	t.Run("the queries still filter the fields the indexes cover", func(t *testing.T) {
		src := readFile(t, "store", "jobs.go")
		for _, f := range []string{`"user_id"`, `"job_type"`, `"status"`, `"created_at"`, `"job_id"`, `"batch_parent_id"`, `"batch_index"`, `"updated_at"`} {
			assert.Contains(t, src, f)
		}
		src = readFile(t, "store", "targets.go")
		for _, f := range []string{`"user_id"`, `"created_at"`, `"target_id"`} {
			assert.Contains(t, src, f)
		}
	})
}

// --- GCS lifecycle ---

type gcsLifecycle struct {
	Lifecycle struct {
		Rule []struct {
			Action struct {
				Type         string `json:"type"`
				StorageClass string `json:"storageClass,omitempty"`
			} `json:"action"`
			Condition struct {
				Age                 *int     `json:"age,omitempty"`
				MatchesPrefix       []string `json:"matchesPrefix,omitempty"`
				MatchesSuffix       []string `json:"matchesSuffix,omitempty"`
				MatchesStorageClass []string `json:"matchesStorageClass,omitempty"`
			} `json:"condition"`
		} `json:"rule"`
	} `json:"lifecycle"`
}

func TestGCSLifecycle(t *testing.T) {
	var lc gcsLifecycle
	require.NoError(t, strictJSON([]byte(readFile(t, "deploy", "gcs", "lifecycle.json")), &lc))
	types := map[string]bool{}
	for i, r := range lc.Lifecycle.Rule {
		types[r.Action.Type] = true
		require.NotNil(t, r.Condition.Age, "rule %d has no age", i)
		switch r.Action.Type {
		case "SetStorageClass":
			t.Run("to NEARLINE after 30 days", func(t *testing.T) {
				assert.Equal(t, "NEARLINE", r.Action.StorageClass)
				assert.Equal(t, 30, *r.Condition.Age)
				assert.Equal(t, []string{"STANDARD"}, r.Condition.MatchesStorageClass)
			})
		case "Delete":
			t.Run("deletes never touch msa/", func(t *testing.T) {
				require.NotEmpty(t, r.Condition.MatchesPrefix, "a Delete rule without a prefix would delete msa/")
				for _, p := range r.Condition.MatchesPrefix {
					assert.False(t, strings.HasPrefix("msa/", p) || strings.HasPrefix(p, "msa"), "Delete rule matches msa/ (%s)", p)
				}
			})
		case "AbortIncompleteMultipartUpload":
		default:
			t.Errorf("unexpected action %s", r.Action.Type)
		}
		for _, p := range r.Condition.MatchesPrefix {
			assert.False(t, strings.HasPrefix(p, "msa"), "rule %d touches msa/", i)
		}
	}
	assert.True(t, types["SetStorageClass"] && types["AbortIncompleteMultipartUpload"], "rules: %v", types)
	t.Run("structure checkpoints are deleted after 7 days, and only they", func(t *testing.T) {
		found := false
		for _, r := range lc.Lifecycle.Rule {
			for _, p := range r.Condition.MatchesPrefix {
				if strings.HasPrefix(omtx.CheckpointPrefix("x"), p) {
					found = found || (r.Action.Type == "Delete" && *r.Condition.Age == 7 && len(r.Condition.MatchesSuffix) == 0)
				} else if r.Action.Type == "Delete" && len(r.Condition.MatchesSuffix) == 0 {
					t.Errorf("a Delete rule without a suffix deletes %s", p)
				}
			}
		}
		assert.True(t, found, "no Delete rule for %s", omtx.CheckpointPrefix("x"))
	})
	t.Run("prefixes are the layout's (omtx/names.go)", func(t *testing.T) {
		layout := []string{omtx.JobPrefix("x"), omtx.BatchPrefix("x"), omtx.CheckpointPrefix("x")}
		for _, r := range lc.Lifecycle.Rule {
			for _, p := range r.Condition.MatchesPrefix {
				ok := false
				for _, l := range layout {
					ok = ok || strings.HasPrefix(l, p)
				}
				assert.True(t, ok, "prefix %s is not a folder of the bucket layout", p)
			}
		}
	})
}

// --- Temporal ---

// temporalValues are the values of the temporalio/temporal chart used here
// (key names from the chart's own values.yaml, chart 1.6.0); anything else
// is refused.
type temporalValues struct {
	Server struct {
		ReplicaCount int `json:"replicaCount,omitempty"`
		// DynamicConfig is written as the server's dynamic_config.yaml.
		DynamicConfig map[string][]struct {
			Value       any               `json:"value"`
			Constraints map[string]string `json:"constraints,omitempty"`
		} `json:"dynamicConfig,omitempty"`
		TLS struct {
			Internode temporalTLS `json:"internode"`
			Frontend  temporalTLS `json:"frontend"`
		} `json:"tls"`
		AdditionalVolumes      []corev1.Volume      `json:"additionalVolumes,omitempty"`
		AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`
		Config                 struct {
			Authorization *struct {
				JWTKeyProvider struct {
					KeySourceURIs   []string `json:"keySourceURIs"`
					RefreshInterval string   `json:"refreshInterval,omitempty"`
				} `json:"jwtKeyProvider"`
				PermissionsClaimName string `json:"permissionsClaimName,omitempty"`
				Authorizer           string `json:"authorizer"`
				ClaimMapper          string `json:"claimMapper"`
			} `json:"authorization,omitempty"`
			Persistence struct {
				DefaultStore     string `json:"defaultStore"`
				VisibilityStore  string `json:"visibilityStore"`
				NumHistoryShards int    `json:"numHistoryShards"`
				Datastores       map[string]struct {
					SQL *struct {
						PluginName      string `json:"pluginName"`
						DatabaseName    string `json:"databaseName"`
						ConnectAddr     string `json:"connectAddr"`
						ConnectProtocol string `json:"connectProtocol,omitempty"`
						User            string `json:"user"`
						Password        string `json:"password,omitempty"`
						ExistingSecret  string `json:"existingSecret,omitempty"`
						SecretKey       string `json:"secretKey,omitempty"`
						CreateDatabase  bool   `json:"createDatabase,omitempty"`
						ManageSchema    bool   `json:"manageSchema,omitempty"`
						MaxConns        int    `json:"maxConns,omitempty"`
						MaxIdleConns    int    `json:"maxIdleConns,omitempty"`
						MaxConnLifetime string `json:"maxConnLifetime,omitempty"`
						TLS             *struct {
							Enabled                bool   `json:"enabled"`
							CaFile                 string `json:"caFile,omitempty"`
							EnableHostVerification bool   `json:"enableHostVerification,omitempty"`
						} `json:"tls,omitempty"`
					} `json:"sql"`
				} `json:"datastores"`
			} `json:"persistence"`
			Namespaces struct {
				Create    bool `json:"create"`
				Namespace []struct {
					Name      string `json:"name"`
					Retention string `json:"retention,omitempty"`
				} `json:"namespace"`
			} `json:"namespaces"`
		} `json:"config"`
		Metrics struct {
			ServiceMonitor struct {
				Enabled          bool              `json:"enabled"`
				AdditionalLabels map[string]string `json:"additionalLabels,omitempty"`
			} `json:"serviceMonitor"`
		} `json:"metrics"`
		InternalFrontend struct {
			Enabled bool `json:"enabled"`
		} `json:"internal-frontend"`
	} `json:"server"`
	Admintools struct {
		Enabled                bool                 `json:"enabled"`
		AdditionalVolumes      []corev1.Volume      `json:"additionalVolumes,omitempty"`
		AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`
	} `json:"admintools"`
	Web struct {
		Enabled         bool   `json:"enabled"`
		TemporalAddress string `json:"temporalAddress,omitempty"`
		TLS             struct {
			Enabled                bool   `json:"enabled"`
			SecretName             string `json:"secretName"`
			ServerName             string `json:"serverName"`
			EnableHostVerification bool   `json:"enableHostVerification"`
		} `json:"tls"`
		Service struct {
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"service"`
		Ingress struct {
			Enabled     bool              `json:"enabled"`
			Annotations map[string]string `json:"annotations,omitempty"`
			Hosts       []string          `json:"hosts"`
		} `json:"ingress"`
	} `json:"web"`
	ExtraObjects []string `json:"extraObjects"`
}

type temporalTLS struct {
	Enabled           bool   `json:"enabled"`
	SecretName        string `json:"secretName"`
	RequireClientAuth bool   `json:"requireClientAuth"`
	ServerName        string `json:"serverName"`
}

// searchAttributes are the attributes the workflows set (contract, all
// keyword keys): name -> type.
func searchAttributes(t testing.TB) map[string]string {
	out := map[string]string{}
	for _, k := range contract.SearchAttributeKeys {
		out[k.GetName()] = "Keyword"
	}
	require.Len(t, out, 5)
	return out
}

// checkRegistersSearchAttributes checks a shell script that registers the
// search attributes one by one in a loop.
func checkRegistersSearchAttributes(t *testing.T, script string) {
	loop := regexp.MustCompile(`for sa in ([A-Za-z ]+); do`).FindStringSubmatch(script)
	require.NotNil(t, loop, "no `for sa in ...` loop in %q", script)
	names := strings.Fields(loop[1])
	want := searchAttributes(t)
	assert.ElementsMatch(t, sortedKeys(want), names)
	for _, typ := range want {
		assert.Contains(t, script, "temporal operator search-attribute create")
		assert.Contains(t, script, "--type "+typ)
	}
}

func TestTemporal(t *testing.T) {
	var v temporalValues
	require.NoError(t, strictYAML([]byte(readFile(t, "deploy", "temporal", "values.yaml")), &v))
	b := build(t, "base")
	cm := b.configMap(configMapName)
	require.NotNil(t, cm)
	frontendHost, _, ok := strings.Cut(cm.Data["TEMPORAL_ADDRESS"], ":")
	require.True(t, ok)
	extra := map[string]*object{}
	for i, x := range v.ExtraObjects {
		assert.NotContains(t, x, "{{", "keep extraObjects free of templates")
		o, err := decodeObject(fmt.Sprintf("temporal/values.yaml extraObjects[%d]", i), []byte(x))
		require.NoError(t, err)
		extra[o.GVK+"/"+o.Name] = o
	}

	t.Run("values.yaml: the priority matcher, and one partition on every GPU queue", func(t *testing.T) {
		dc := v.Server.DynamicConfig
		require.Len(t, dc["matching.useNewMatcher"], 1)
		assert.Equal(t, true, dc["matching.useNewMatcher"][0].Value)
		fleet, err := omtx.ParseFleet(omtx.DefaultFleetSpec)
		require.NoError(t, err)
		for _, key := range []string{"matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"} {
			one := map[string]bool{}
			for _, e := range dc[key] {
				if e.Value == float64(1) {
					one[e.Constraints["taskQueueName"]] = true
				}
			}
			for _, c := range fleet {
				assert.True(t, one[contract.GPUTaskQueue(c.Name)], "%s: %s needs 1 partition, or a single prediction waits behind batch tasks on other partitions", key, contract.GPUTaskQueue(c.Name))
			}
		}
	})

	t.Run("values.yaml: PostgreSQL over TLS with host verification", func(t *testing.T) {
		p := v.Server.Config.Persistence
		for _, store := range []string{p.DefaultStore, p.VisibilityStore} {
			ds, ok := p.Datastores[store]
			require.True(t, ok, "datastore %s", store)
			require.NotNil(t, ds.SQL, "datastore %s is not SQL", store)
			assert.Equal(t, "postgres12", ds.SQL.PluginName)
			assert.True(t, strings.HasSuffix(ds.SQL.ConnectAddr, ":5432"))
			assert.Empty(t, ds.SQL.Password, "no password in values: use existingSecret")
			assert.NotEmpty(t, ds.SQL.ExistingSecret)
			require.NotNil(t, ds.SQL.TLS, "datastore %s: Cloud SQL over TLS", store)
			assert.True(t, ds.SQL.TLS.Enabled)
			assert.True(t, ds.SQL.TLS.EnableHostVerification, "sslmode=verify-full, not require")
			host, _, _ := strings.Cut(ds.SQL.ConnectAddr, ":")
			assert.Nil(t, net.ParseIP(host), "verify-full checks a host name: connect by the instance's DNS name, not an IP")
			for name, mounts := range map[string][]corev1.VolumeMount{"server": v.Server.AdditionalVolumeMounts, "admintools (schema job)": v.Admintools.AdditionalVolumeMounts} {
				mounted := false
				for _, m := range mounts {
					mounted = mounted || strings.HasPrefix(ds.SQL.TLS.CaFile, m.MountPath+"/")
				}
				assert.True(t, mounted, "%s does not mount %s", name, ds.SQL.TLS.CaFile)
			}
		}
		assert.NotEqual(t, p.Datastores[p.DefaultStore].SQL.DatabaseName, p.Datastores[p.VisibilityStore].SQL.DatabaseName)
		assert.Positive(t, p.NumHistoryShards)
	})
	t.Run("values.yaml: mTLS on the frontend and between services", func(t *testing.T) {
		for name, tls := range map[string]temporalTLS{"internode": v.Server.TLS.Internode, "frontend": v.Server.TLS.Frontend} {
			assert.True(t, tls.Enabled, name)
			assert.True(t, tls.RequireClientAuth, "%s: client certificates required", name)
			c := extra["cert-manager.io/v1/Certificate/"+tls.SecretName]
			if assert.NotNil(t, c, "%s: no Certificate issues %s", name, tls.SecretName) {
				cert := c.Obj.(*Certificate)
				assert.Equal(t, tls.SecretName, cert.Spec.SecretName)
				assert.Contains(t, cert.Spec.DNSNames, tls.ServerName, "%s: serverName must be a SAN of the certificate", name)
				assert.Equal(t, "temporal-ca", cert.Spec.IssuerRef.Name)
			}
		}
		assert.Equal(t, frontendHost, v.Server.TLS.Frontend.ServerName, "the name OMTX-Hub dials (TEMPORAL_ADDRESS) is the frontend certificate's")
		assert.NotNil(t, extra["cert-manager.io/v1/ClusterIssuer/temporal-ca"], "the CA issuer")
	})
	t.Run("values.yaml: the default authorizer with JWTs", func(t *testing.T) {
		a := v.Server.Config.Authorization
		require.NotNil(t, a, "server.config.authorization: without it any client with a certificate may do anything")
		assert.Equal(t, "default", a.Authorizer)
		assert.Equal(t, "default", a.ClaimMapper)
		require.NotEmpty(t, a.JWTKeyProvider.KeySourceURIs)
		for _, u := range a.JWTKeyProvider.KeySourceURIs {
			assert.True(t, strings.HasPrefix(u, "https://"), "keys over HTTPS: %s", u)
		}
		assert.True(t, v.Server.InternalFrontend.Enabled, "with an authorizer, the system components need the internal frontend")
	})
	t.Run("values.yaml: the Web UI only behind IAP", func(t *testing.T) {
		assert.True(t, v.Web.Ingress.Enabled)
		assert.Equal(t, "gce", v.Web.Ingress.Annotations["kubernetes.io/ingress.class"], "GKE's Ingress: IAP is a BackendConfig of it")
		assert.Equal(t, "false", v.Web.Ingress.Annotations["kubernetes.io/ingress.allow-http"])
		bc := extra["cloud.google.com/v1/BackendConfig/temporal-web-iap"]
		require.NotNil(t, bc)
		assert.True(t, bc.Obj.(*BackendConfig).Spec.IAP.Enabled)
		assert.Contains(t, v.Web.Service.Annotations["cloud.google.com/backend-config"], `"temporal-web-iap"`)
		assert.NotNil(t, extra["networking.gke.io/v1/ManagedCertificate/"+v.Web.Ingress.Annotations["networking.gke.io/managed-certificates"]])
		assert.True(t, v.Web.TLS.Enabled && v.Web.TLS.EnableHostVerification, "the Web UI reaches Temporal over verified TLS")
		assert.Contains(t, v.Web.TemporalAddress, "internal-frontend")
	})
	t.Run("values.yaml: creates the namespace the ConfigMap names", func(t *testing.T) {
		assert.True(t, v.Server.Config.Namespaces.Create)
		var names []string
		for _, n := range v.Server.Config.Namespaces.Namespace {
			names = append(names, n.Name)
		}
		assert.Contains(t, names, cm.Data["TEMPORAL_NAMESPACE"])
	})
	t.Run("values.yaml: a Job registers the five search attributes", func(t *testing.T) {
		o := extra["batch/v1/Job/temporal-omtx-search-attributes"]
		require.NotNil(t, o)
		job := o.Obj.(*batchv1.Job)
		assert.Equal(t, "post-install,post-upgrade", job.Annotations["helm.sh/hook"])
		require.Len(t, job.Spec.Template.Spec.Containers, 1)
		c := job.Spec.Template.Spec.Containers[0]
		assert.Empty(t, pinned(c.Image))
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		assert.Equal(t, cm.Data["TEMPORAL_NAMESPACE"], env["TEMPORAL_NAMESPACE"])
		assert.Equal(t, "temporal-internal-frontend.temporal.svc:7236", env["TEMPORAL_ADDRESS"], "the internal frontend: the Job holds no JWT")
		assert.Equal(t, v.Server.TLS.Internode.ServerName, env["TEMPORAL_TLS_SERVER_NAME"])
		assert.Equal(t, "temporal", job.Spec.Template.Labels["app.kubernetes.io/instance"], "the namespace's NetworkPolicies admit the release's pods")
		assert.Equal(t, corev1.RestartPolicyOnFailure, job.Spec.Template.Spec.RestartPolicy)
		checkRegistersSearchAttributes(t, strings.Join(append(c.Command, c.Args...), "\n"))
	})
	t.Run("OMTX-Hub's processes present the client certificate and the JWT", func(t *testing.T) {
		co := b.find("cert-manager.io/v1/Certificate", "temporal-client")
		require.NotNil(t, co)
		cert := co.Obj.(*Certificate)
		assert.Equal(t, "ClusterIssuer", cert.Spec.IssuerRef.Kind)
		assert.NotNil(t, extra["cert-manager.io/v1/ClusterIssuer/"+cert.Spec.IssuerRef.Name], "issued by the release's CA")
		assert.Contains(t, cert.Spec.Usages, "client auth")
		for _, d := range build(t, "overlays/production").deployments() {
			c := d.Spec.Template.Spec.Containers[0]
			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			for _, k := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA"} {
				require.Contains(t, env, k, "%s", d.Name)
			}
			for _, k := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA"} {
				assert.True(t, mountsSecret(d, env[k].Value, cert.Spec.SecretName), "%s: %s=%s is not on a volume of Secret %s", d.Name, k, env[k].Value, cert.Spec.SecretName)
			}
			assert.Empty(t, jwtFromFileProblems(d), "%s", d.Name)
		}
		ta := b.find("keda.sh/v1alpha1/TriggerAuthentication", "temporal")
		require.NotNil(t, ta)
		assert.Empty(t, ta.Obj.(*TriggerAuthentication).Spec.Env, "KEDA reads no credential from a container's environment")
		params := map[string]bool{}
		for _, r := range ta.Obj.(*TriggerAuthentication).Spec.SecretTargetRef {
			assert.Contains(t, []string{"cert", "key", "ca", "keyPassword", "apiKey"}, r.Parameter, "not a temporal scaler auth parameter")
			params[r.Parameter] = true
		}
		assert.Equal(t, map[string]bool{"cert": true, "key": true, "ca": true, "apiKey": true}, params)
		for _, so := range b.scaledObjects() {
			tr := triggerOf(t, so, "temporal")
			require.NotNil(t, tr.AuthenticationRef, "ScaledObject %s: the temporal scaler needs the client certificate", so.Metadata.Name)
			assert.Equal(t, "temporal", tr.AuthenticationRef.Name)
		}
	})
	t.Run("the README agrees with the code on TLS and API keys", func(t *testing.T) {
		doc := readFile(t, "deploy", "temporal", "README.md")
		known := configEnv(t)
		for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_API_KEY"} {
			assert.Contains(t, doc, k)
			assert.True(t, known[k], "config/config.go does not read %s, which README.md documents", k)
		}
		assert.NotContains(t, doc, "not yet", "config/config.go reads the TLS and API-key settings")
		for _, line := range strings.Split(readFile(t, "deploy", "temporal", "cloud.env.example"), "\n") {
			k, _, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && !strings.HasPrefix(k, "#") {
				assert.True(t, known[k], "cloud.env.example names %s, which config/config.go does not read", k)
			}
		}
		assert.Contains(t, readFile(t, "app", "dial.go"), "NewAPIKeyStaticCredentials", "TEMPORAL_API_KEY is sent as the SDK's API key")
	})
}

// jwtFromFileProblems says how d's first container fails to read the
// Temporal JWT from a file: TEMPORAL_API_KEY_FILE on a volume of the Secret
// temporal-jwt, mounted without subPath (a subPath mount is never updated
// when the Secret changes), and no TEMPORAL_API_KEY or other env var that
// takes a value from temporal-jwt.
func jwtFromFileProblems(d *appsv1.Deployment) []string {
	var out []string
	c := d.Spec.Template.Spec.Containers[0]
	file := ""
	for _, e := range c.Env {
		if e.Name == "TEMPORAL_API_KEY" {
			out = append(out, "TEMPORAL_API_KEY is set: the JWT is read once from the environment")
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == "temporal-jwt" {
			out = append(out, e.Name+" takes the JWT from the Secret into the environment")
		}
		if e.Name == "TEMPORAL_API_KEY_FILE" {
			file = e.Value
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil && ef.SecretRef.Name == "temporal-jwt" {
			out = append(out, "envFrom takes the JWT from the Secret into the environment")
		}
	}
	if file == "" {
		return append(out, "no TEMPORAL_API_KEY_FILE")
	}
	if !mountsSecret(d, file, "temporal-jwt") {
		out = append(out, "TEMPORAL_API_KEY_FILE="+file+" is not on a volume of Secret temporal-jwt")
	}
	for _, m := range c.VolumeMounts {
		if m.SubPath != "" && strings.HasPrefix(file, m.MountPath) {
			out = append(out, "TEMPORAL_API_KEY_FILE is on a subPath mount, which the kubelet never updates")
		}
	}
	return out
}

func TestJWTFromFileChecksCanFail(t *testing.T) {
	good := build(t, "base").deployment("worker")
	require.NotNil(t, good)
	require.Empty(t, jwtFromFileProblems(good))
	t.Run("the JWT in an env var", func(t *testing.T) {
		d := good.DeepCopy()
		c := &d.Spec.Template.Spec.Containers[0]
		c.Env = append(c.Env, corev1.EnvVar{Name: "TEMPORAL_API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "temporal-jwt"}, Key: "TEMPORAL_API_KEY"}}})
		assert.Len(t, jwtFromFileProblems(d), 2)
	})
	t.Run("the file on no Secret volume", func(t *testing.T) {
		d := good.DeepCopy()
		c := &d.Spec.Template.Spec.Containers[0]
		for i := range c.Env {
			if c.Env[i].Name == "TEMPORAL_API_KEY_FILE" {
				c.Env[i].Value = "/tmp/jwt"
			}
		}
		assert.NotEmpty(t, jwtFromFileProblems(d))
	})
	t.Run("a subPath mount", func(t *testing.T) {
		d := good.DeepCopy()
		c := &d.Spec.Template.Spec.Containers[0]
		for i := range c.VolumeMounts {
			if c.VolumeMounts[i].Name == "temporal-jwt" {
				c.VolumeMounts[i].SubPath = "TEMPORAL_API_KEY"
			}
		}
		assert.NotEmpty(t, jwtFromFileProblems(d))
	})
}

// mountsSecret says whether path is a file or folder on a volume of d that
// holds the Secret secret.
func mountsSecret(d *appsv1.Deployment, path, secret string) bool {
	vols := map[string]string{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			vols[v.Name] = v.Secret.SecretName
		}
	}
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if (path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/")) && vols[m.Name] == secret {
			return true
		}
	}
	return false
}

// --- documentation ---

func TestDocs(t *testing.T) {
	t.Run("deploy/README.md says how to apply", func(t *testing.T) {
		doc := readFile(t, "deploy", "README.md")
		assert.Contains(t, doc, "kubectl apply -k deploy/overlays/production")
		assert.Contains(t, doc, "ORT_SHA256")
	})
	t.Run("deploy/iam/README.md covers every service account", func(t *testing.T) {
		doc := readFile(t, "deploy", "iam", "README.md")
		for _, o := range build(t, "base").all("v1/ServiceAccount") {
			sa := o.Obj.(*corev1.ServiceAccount)
			assert.Contains(t, doc, "`"+sa.Annotations[wiAnnotation]+"`", "the Google SA of %s", sa.Name)
			assert.Contains(t, doc, "`"+sa.Name+"`")
		}
		for _, role := range []string{"roles/datastore.user", "roles/storage.objectViewer", "roles/storage.objectCreator", "roles/storage.objectAdmin", "roles/iam.workloadIdentityUser"} {
			assert.Contains(t, doc, role)
		}
		assert.Contains(t, doc, "svc.id.goog[$NS/$sa]", "the Workload Identity member")
		assert.Contains(t, doc, "gs://$BUCKET", "bucket-level, not project-level, Storage roles")
	})
}

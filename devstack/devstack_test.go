package devstack

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// launcher is the Cloud Firestore emulator's launcher script as
// google-cloud-cli-firestore-emulator 528.0.0 ships it (the lines that
// matter).
const launcher = `#!/bin/bash
set -o errexit

declare -r FIRESTORE="$0"
declare -r FIRESTORE_DIR=$(dirname "${FIRESTORE}")
declare -r FIRESTORE_JAR="${FIRESTORE_DIR}/cloud-firestore-emulator.jar"

# The Cloud Firestore emulator currently only supports English error messages
declare -r JVM_ENGLISH="-Duser.language=en"
declare -r JVM_FLAGS="${JVM_ENGLISH}"

${JAVA:="java"} ${JVM_FLAGS} -cp "${FIRESTORE_JAR}" com.google.cloud.datastore.emulator.firestore.CloudFirestore $*
`

func TestJavaCommand(t *testing.T) {
	t.Setenv("JAVA", "/opt/jdk/bin/java")
	dir := t.TempDir()
	script := filepath.Join(dir, "cloud_firestore_emulator")
	require.NoError(t, os.WriteFile(script, []byte(launcher), 0o755))

	t.Run("without the jar, the launcher runs", func(t *testing.T) {
		_, _, ok := javaCommand(script)
		assert.False(t, ok)
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cloud-firestore-emulator.jar"), nil, 0o644))
	t.Run("java, its flags, the jar and the main class", func(t *testing.T) {
		java, args, ok := javaCommand(script)
		require.True(t, ok)
		assert.Equal(t, "/opt/jdk/bin/java", java)
		assert.Equal(t, []string{"-Duser.language=en", "-cp", filepath.Join(dir, "cloud-firestore-emulator.jar"),
			"com.google.cloud.datastore.emulator.firestore.CloudFirestore"}, args)
	})
	t.Run("a launcher that reads otherwise", func(t *testing.T) {
		other := filepath.Join(dir, "other")
		require.NoError(t, os.WriteFile(other, []byte(strings.ReplaceAll(launcher, `-cp "${FIRESTORE_JAR}"`, `-jar "${FIRESTORE_JAR}"`)), 0o755))
		_, _, ok := javaCommand(other)
		assert.False(t, ok)
	})
	t.Run("the installed launcher, if any, still reads as expected", func(t *testing.T) {
		bin, err := FirestoreEmulator()
		if err != nil {
			t.Skip(err)
		}
		_, args, ok := javaCommand(bin)
		require.True(t, ok, "%s no longer reads as javaCommand expects: its java would outlive a hard kill", bin)
		assert.Contains(t, args, "-cp")
	})
}

func TestRestoreSnapshot(t *testing.T) {
	t.Parallel()
	snapshot := func(t *testing.T, dir, name string) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name, name+".overall_export_metadata"), nil, 0o644))
	}
	for _, tc := range []struct {
		name  string
		have  []string // folders beside firestore/ holding a complete snapshot
		final bool     // firestore/ holds one
		want  string
	}{
		{name: "the snapshot in place", final: true, have: []string{"firestore.old"}, want: "in-place"},
		{name: "killed between the renames: the new one", have: []string{"firestore.new", "firestore.old"}, want: "firestore.new"},
		{name: "killed after the first rename of the first export", have: []string{"firestore.old"}, want: "firestore.old"},
		{name: "none", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tc.final {
				snapshot(t, filepath.Join(dir, "firestore"), "in-place")
			}
			for _, h := range tc.have {
				snapshot(t, filepath.Join(dir, h), h)
			}
			meta := restoreSnapshot(filepath.Join(dir, "firestore"))
			if tc.want == "" {
				assert.Empty(t, meta)
				return
			}
			assert.Equal(t, filepath.Join(dir, "firestore", tc.want, tc.want+".overall_export_metadata"), meta)
		})
	}
}

func TestStateLockAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	lock, err := lockState(dir)
	require.NoError(t, err)
	_, err = lockState(dir)
	require.ErrorContains(t, err, "in use by a running stack")
	unlockState(lock)
	lock, err = lockState(dir)
	require.NoError(t, err, "released by the holder")
	defer unlockState(lock)

	if runtime.GOOS != "linux" {
		t.Skip("leftovers are found through /proc")
	}
	// A service a dead stack left behind, and an unrelated process.
	left := exec.Command("sleep", "60")
	left.Env = append(os.Environ(), StateEnv+"="+dir)
	other := exec.Command("sleep", "60")
	other.Env = append(os.Environ(), StateEnv+"="+dir+"-other")
	for _, c := range []*exec.Cmd{left, other} {
		require.NoError(t, c.Start())
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	waited := make(chan struct{})
	go func() { _ = left.Wait(); close(waited) }()
	pids, err := Processes(dir)
	require.NoError(t, err)
	assert.Equal(t, []int{left.Process.Pid}, pids)

	n, err := KillLeftovers(dir)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the leftover still runs")
	}
	alive, err := Processes(dir + "-other")
	require.NoError(t, err)
	assert.Equal(t, []int{other.Process.Pid}, alive, "another folder's process is left alone")
}

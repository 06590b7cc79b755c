package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/client"
)

// Exit codes.
const (
	exitOK          = 0
	exitEnded       = 1 // the work ended failed or cancelled, or the API refused the action
	exitUsage       = 2
	exitUnreachable = 3 // the API is unreachable, unavailable or refuses the key
	exitFailures    = 4 // the batch completed, but some of its ligands failed
	exitInterrupted = 130
)

// devKeyFile is where make dev writes a local API key.
const devKeyFile = ".omtx/dev-api-key"

// app holds the global flags and the streams of one run.
type app struct {
	apiURL      string
	keyFile     string
	output      string
	linkWithKey bool
	interval    time.Duration

	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// isTTY says whether stderr is a terminal (for the live bar).
	isTTY bool

	key string
	cl  *client.Client
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// endedError is work that ended failed or cancelled.
type endedError struct{ id, status string }

func (e *endedError) Error() string { return fmt.Sprintf("%s ended %s", e.id, e.status) }

// interruptedError is a watch stopped with Ctrl-C.
type interruptedError struct{ id string }

func (e *interruptedError) Error() string {
	return fmt.Sprintf("stopped watching; %s keeps running (omtx cancel %s stops it)", e.id, e.id)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{getenv: getenv, stdout: stdout, stderr: stderr, isTTY: isTerminal(stderr)}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	return a.report(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "omtx",
		Short: "Run OMTX-Hub protein–ligand predictions and virtual screens",
		Long: `omtx submits predictions and batch screens to an OMTX-Hub API, watches
them, and fetches ranked results and files.

Configuration: OMTX_API_URL (default http://127.0.0.1:8080) and OMTX_API_KEY,
or --api-key-file (default .omtx/dev-api-key when it exists).

Exit codes: 0 success; 1 the job or batch ended failed or cancelled (or the
API refused the action); 2 usage errors, including input the API refused as
invalid; 3 the API is unreachable or refuses the key; 4 the batch completed
but some of its ligands failed (results and screen --wait list them, with
their reasons); 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.connect()
		},
	}
	url := a.getenv("OMTX_API_URL")
	if url == "" {
		url = client.DefaultBaseURL
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.apiURL, "api-url", url, "API base URL (env OMTX_API_URL)")
	pf.StringVar(&a.keyFile, "api-key-file", "", "file holding the API key (default: OMTX_API_KEY, else "+devKeyFile+" when it exists)")
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	pf.BoolVar(&a.linkWithKey, "link-with-key", false, "put the API key in the printed results-page link, so it opens signed in")
	pf.DurationVar(&a.interval, "interval", 0, "how often to poll while watching (default 2s on a terminal, 5s otherwise)")
	_ = pf.MarkHidden("interval")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })

	root.AddCommand(a.predictCmd(), a.screenCmd(), a.estimateCmd(), a.watchCmd(), a.resultsCmd(),
		a.downloadCmd(), a.cancelCmd(), a.rerunCmd(), a.jobsCmd(), a.batchesCmd(), a.targetCmd())
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	}
	return root
}

// connect reads the configuration and builds the client.
func (a *app) connect() error {
	if a.output != "text" && a.output != "json" {
		return usagef("--output must be text or json, not %q", a.output)
	}
	file := a.keyFile
	key := ""
	switch {
	case file != "":
	case a.getenv("OMTX_API_KEY") != "":
		key = a.getenv("OMTX_API_KEY")
	default:
		if _, err := os.Stat(devKeyFile); err == nil {
			file = devKeyFile
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return usagef("read the API key: %v", err)
		}
		key = strings.TrimSpace(string(data))
	}
	if key == "" {
		return usagef("no API key: set OMTX_API_KEY or pass --api-key-file (make dev writes %s)", devKeyFile)
	}
	cl, err := client.New(a.apiURL, key, client.WithUserAgent("omtx-cli"))
	if err != nil {
		return usagef("%v", err)
	}
	a.key, a.cl = key, cl
	return nil
}

// report prints err and returns its exit code.
func (a *app) report(err error) int {
	var ue *usageError
	var ee *endedError
	var ie *interruptedError
	var fe *failuresError
	var unreach *client.UnreachableError
	var apiErr *client.Error
	code := exitEnded
	switch {
	case errors.As(err, &ie):
		fmt.Fprintln(a.stderr, "\n"+ie.Error())
		return exitInterrupted
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(a.stderr, "\ninterrupted")
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintln(a.stderr, "omtx: "+ue.msg)
		fmt.Fprintln(a.stderr, "Run 'omtx --help' for usage.")
		return exitUsage
	case errors.As(err, &ee):
		// The result was printed already.
		return exitEnded
	case errors.As(err, &fe):
		// The failures were listed already.
		return exitFailures
	case errors.As(err, &unreach):
		fmt.Fprintln(a.stderr, "omtx: "+unreach.Error())
		return exitUnreachable
	case errors.As(err, &apiErr):
		switch apiErr.Status {
		case http.StatusUnauthorized, http.StatusServiceUnavailable, http.StatusTooManyRequests:
			code = exitUnreachable
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			code = exitUsage
		}
		a.printAPIError(apiErr)
		return code
	}
	fmt.Fprintln(a.stderr, "omtx: "+err.Error())
	return code
}

// printAPIError prints the API's message and field (and every bad row of
// a refused library).
func (a *app) printAPIError(e *client.Error) {
	if a.output == "json" {
		out := map[string]any{"error": map[string]any{"status": e.Status, "code": e.Code, "message": e.Message,
			"field": e.Field, "rows": e.Rows, "request_id": e.RequestID}}
		enc := json.NewEncoder(a.stderr)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return
	}
	msg := "omtx: the API refused the request"
	if e.Status == http.StatusUnauthorized {
		msg = "omtx: the API refuses the key"
	}
	fmt.Fprintf(a.stderr, "%s (%d %s): %s\n", msg, e.Status, e.Code, e.Message)
	if e.Field != "" {
		fmt.Fprintf(a.stderr, "  field: %s\n", e.Field)
	}
	for _, r := range e.Rows {
		fmt.Fprintf(a.stderr, "  row %d", r.Row)
		if r.Field != "" {
			fmt.Fprintf(a.stderr, " (%s)", r.Field)
		}
		fmt.Fprintf(a.stderr, ": %s\n", r.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(a.stderr, "  request id: %s\n", e.RequestID)
	}
}

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// link is the results page's address of a job or batch.
func (a *app) link(id string) string {
	kind := "jobs"
	if isBatchID(id) {
		kind = "batches"
	}
	l := strings.TrimRight(a.cl.BaseURL(), "/") + "/ui/#/" + kind + "/" + id
	if a.linkWithKey {
		l += "?key=" + a.key
	}
	return l
}

func isBatchID(id string) bool { return strings.HasPrefix(id, "batch_") }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && termIsTerminal(int(f.Fd()))
}

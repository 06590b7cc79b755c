// Command omtx-api serves OMTX-Hub's REST API. It starts workflows on
// Temporal and reads job documents and files; it runs no model and links
// neither cgo nor the workers' code (a test checks that).
package main

import (
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/config"
)

func main() { app.Main(config.ProcessAPI, apiapp.Run) }

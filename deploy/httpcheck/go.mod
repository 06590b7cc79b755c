// httpcheck is its own module (standard library only) so that it stays out
// of the main module's packages; the Dockerfiles build it into every image.
module github.com/omtx-hub/omtx-hub/deploy/httpcheck

go 1.26

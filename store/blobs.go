package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Blobs stores files in one Cloud Storage bucket.
type Blobs struct {
	bucket string
	h      *storage.BucketHandle
}

// NewBlobs wraps a storage client for one bucket. The client is owned by the
// caller.
func NewBlobs(client *storage.Client, bucket string) *Blobs {
	return &Blobs{bucket: bucket, h: client.Bucket(bucket)}
}

// OpenStorage opens a client. It honours STORAGE_EMULATOR_HOST.
func OpenStorage(ctx context.Context) (*storage.Client, error) {
	c, err := storage.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	return c, nil
}

// EnsureBucket creates the bucket if it does not exist (local development;
// production buckets come from deploy/).
func (b *Blobs) EnsureBucket(ctx context.Context, project string) error {
	if _, err := b.h.Attrs(ctx); err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrBucketNotExist) {
		return fmt.Errorf("bucket %s: %w", b.bucket, err)
	}
	if err := b.h.Create(ctx, project, nil); err != nil {
		return fmt.Errorf("create bucket %s: %w", b.bucket, err)
	}
	return nil
}

// URI returns the gs:// address of an object.
func (b *Blobs) URI(name string) string { return "gs://" + b.bucket + "/" + name }

// Put writes an object, replacing any previous version: the same name always
// holds one copy, so a retried write never duplicates a result.
func (b *Blobs) Put(ctx context.Context, name, contentType string, data []byte) error {
	w := b.h.Object(name).NewWriter(ctx)
	w.ContentType = contentType
	// Small objects go up in one request; no resumable session to leak.
	w.ChunkSize = 0
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// MaxReadBytes bounds what Get reads into memory.
const MaxReadBytes = 64 << 20

// Get reads an object; a missing one is an omtx ENotFound error.
func (b *Blobs) Get(ctx context.Context, name string) (*omtx.Object, error) {
	r, err := b.h.Object(name).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, omtx.Errorf(omtx.ENotFound, "name", "file %s not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxReadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxReadBytes {
		return nil, omtx.Errorf(omtx.ETooLarge, "name", "file %s is over %d bytes", name, MaxReadBytes)
	}
	return &omtx.Object{Name: name, ContentType: r.Attrs.ContentType, Data: data}, nil
}

// List returns the names of the objects under prefix, sorted.
func (b *Blobs) List(ctx context.Context, prefix string) ([]string, error) {
	it := b.h.Objects(ctx, &storage.Query{Prefix: prefix})
	var names []string
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		names = append(names, attrs.Name)
	}
}

// Ping checks that the bucket answers.
func (b *Blobs) Ping(ctx context.Context) error {
	if _, err := b.h.Attrs(ctx); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// Read returns an object's bytes.
func (b *Blobs) Read(ctx context.Context, name string) ([]byte, error) {
	obj, err := b.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return obj.Data, nil
}

// Exists reports whether an object exists.
func (b *Blobs) Exists(ctx context.Context, name string) (bool, error) {
	_, err := b.h.Object(name).Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", name, err)
	}
	return true, nil
}

// PutIfAbsent writes an object only if it does not exist yet, atomically
// (a GCS generation precondition); created reports whether it wrote.
func (b *Blobs) PutIfAbsent(ctx context.Context, name, contentType string, data []byte) (bool, error) {
	w := b.CreateIfAbsent(ctx, name, contentType)
	if _, err := w.Write(data); err != nil {
		abortWriter(w)
		return false, err
	}
	err := w.Close()
	if omtx.ErrorCode(err) == omtx.EConflict {
		return false, nil
	}
	return err == nil, err
}

// CreateIfAbsent is Create with a precondition: Close publishes the
// object only if none exists yet, and fails with an omtx EConflict error
// otherwise.
func (b *Blobs) CreateIfAbsent(ctx context.Context, name, contentType string) io.WriteCloser {
	ctx, cancel := context.WithCancel(ctx)
	w := b.h.Object(name).If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ContentType = contentType
	w.ChunkSize = uploadChunk
	return &objectWriter{Writer: w, cancel: cancel}
}

// uploadChunk is how much of a streamed upload a writer holds in memory:
// each chunk is one request of a resumable upload. Small, so that a
// process's memory does not grow with the files it writes (a 100,000-row
// library or results CSV is 10-20 MiB); a multiple of 256 KiB, as GCS
// requires.
const uploadChunk = 1 << 20

func abortWriter(w io.WriteCloser) {
	if a, ok := w.(interface{ Abort() }); ok {
		a.Abort()
	}
}

// Create returns a writer that streams an object up in chunks; the object
// exists, replacing any previous version, once Close returns nil. Large
// files (a batch's CSV) are written this way without being held in memory.
//
// Abort (on the returned writer) cancels the upload instead: no object is
// published.
func (b *Blobs) Create(ctx context.Context, name, contentType string) io.WriteCloser {
	ctx, cancel := context.WithCancel(ctx)
	w := b.h.Object(name).NewWriter(ctx)
	w.ContentType = contentType
	w.ChunkSize = uploadChunk
	return &objectWriter{Writer: w, cancel: cancel}
}

type objectWriter struct {
	*storage.Writer
	cancel context.CancelFunc
}

func (w *objectWriter) Close() error {
	defer w.cancel()
	err := w.Writer.Close()
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Code == http.StatusPreconditionFailed {
		return omtx.Errorf(omtx.EConflict, "name", "file %s exists", w.Name)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", w.Name, err)
	}
	return nil
}

// Abort cancels the upload.
func (w *objectWriter) Abort() {
	w.cancel()
	_ = w.Writer.Close()
}

// Delete removes an object; a missing one is not an error.
func (b *Blobs) Delete(ctx context.Context, name string) error {
	err := b.h.Object(name).Delete(ctx)
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Open streams an object's bytes; a missing one is an omtx ENotFound error.
// The caller closes the reader and bounds what it reads.
func (b *Blobs) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	r, err := b.h.Object(name).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, omtx.Errorf(omtx.ENotFound, "name", "file %s not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return r, nil
}

package omtx

import "time"

// ListFilter selects a page of a user's jobs, newest first.
type ListFilter struct {
	UserID   string
	JobTypes []JobType // empty: all
	Status   JobStatus // empty: all
	Limit    int
	// AfterCreatedAt and AfterJobID continue from a previous page: the
	// created_at and job_id of its last item.
	AfterCreatedAt time.Time
	AfterJobID     string
}

// ChildFilter selects a page of a batch's children, by batch_index.
type ChildFilter struct {
	BatchID  string
	Statuses []JobStatus // empty: all
	// AfterIndex continues after this batch_index (-1: from the start).
	AfterIndex int
	Limit      int
}

// Object is a stored file.
type Object struct {
	Name        string
	ContentType string
	Data        []byte
}

// Package store holds OMTX-Hub's storage adapters: job documents in
// Firestore (collection "jobs", the seed plan's schema) and files in Cloud
// Storage (the seed plan's bucket layout). They use the real clients only;
// locally those point at the Firestore emulator and fake-gcs-server through
// FIRESTORE_EMULATOR_HOST and STORAGE_EMULATOR_HOST.
package store

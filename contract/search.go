package contract

import (
	"go.temporal.io/sdk/temporal"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Search attributes, registered on the Temporal server (devstack, the Helm
// values and the Temporal Cloud README list them) and set when a workflow
// starts, for filtering lists in the Web UI. Only lists filter on them:
// progress comes from queries and the job documents.
var (
	SearchAttrUserID   = temporal.NewSearchAttributeKeyKeyword("UserId")
	SearchAttrBatchID  = temporal.NewSearchAttributeKeyKeyword("BatchId")
	SearchAttrJobType  = temporal.NewSearchAttributeKeyKeyword("JobType")
	SearchAttrModel    = temporal.NewSearchAttributeKeyKeyword("Model")
	SearchAttrGPUClass = temporal.NewSearchAttributeKeyKeyword("GpuClass")
)

// SearchAttributeKeys lists every key above.
var SearchAttributeKeys = []temporal.SearchAttributeKeyKeyword{
	SearchAttrUserID, SearchAttrBatchID, SearchAttrJobType, SearchAttrModel, SearchAttrGPUClass,
}

// SearchAttributes builds the search attributes of the workflow that runs
// spec on gpuClass: a job's or a batch's own workflow. For a batch's chunk
// workflows, pass the batch's spec and jobType omtx.JobTypeBatchChild.
// It is the only place that builds them.
func SearchAttributes(spec *JobSpec, jobType omtx.JobType, gpuClass string) temporal.SearchAttributes {
	ups := []temporal.SearchAttributeUpdate{
		SearchAttrUserID.ValueSet(spec.UserID),
		SearchAttrJobType.ValueSet(string(jobType)),
		SearchAttrModel.ValueSet(spec.Model),
		SearchAttrGPUClass.ValueSet(gpuClass),
	}
	if spec.JobType == omtx.JobTypeBatchParent {
		ups = append(ups, SearchAttrBatchID.ValueSet(spec.JobID))
	}
	return temporal.NewSearchAttributes(ups...)
}

// Command gpucheck runs the shipped model bundle with the CPU and the CUDA
// execution providers for batch sizes 1, 8, 64 and 256, and prints the
// median latency of each (make gpu-check). When CUDA cannot be used it
// prints "CUDA unavailable: <reason>" and, with -require-cuda, exits 1.
//
//	ONNXRUNTIME_LIB=.tools/lib/libonnxruntime.so go run ./cmd/gpucheck
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/omtx-hub/omtx-hub/gpu"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// protein is any valid sequence: the baseline does not use it.
const protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWSTPSELGHAGLNGDILVWNPVLEDAFELSSMGIRVDADTLKHQLALTGDEDRLELEWHQALLRGEMPQTIGGGIGQSRLTMLLLQLPHIGQVQAGVWPAACRESVPALL"

var smiles = []string{
	"CC(=O)Oc1ccccc1C(=O)O",
	"CC(C)Cc1ccc(cc1)C(C)C(=O)O",
	"Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
	"COc1cc2ncnc(Nc3ccc(F)c(Cl)c3)c2cc1OCCCN1CCOCC1",
	"CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
}

func main() {
	bundle := flag.String("bundle", "models/descriptor-baseline-v1", "model bundle folder")
	iters := flag.Int("iters", 30, "timed runs per batch size")
	requireCUDA := flag.Bool("require-cuda", false, "exit 1 when CUDA is unavailable")
	device := flag.Int("device", 0, "CUDA device id")
	flag.Parse()
	if err := run(*bundle, *iters, *device, *requireCUDA); err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
}

func run(bundle string, iters, device int, requireCUDA bool) error {
	ligands := make([]omtx.Ligand, 256)
	for i := range ligands {
		ligands[i] = omtx.Ligand{Name: fmt.Sprint(i), SMILES: smiles[i%len(smiles)]}
	}
	fmt.Printf("onnxruntime library: %s\n", gpu.DefaultLibraryPath())
	fmt.Println("median_ms: Predict wall time (featurization + session runs); run_ms: session runs only")
	fmt.Printf("%-8s %6s %12s %12s %12s\n", "provider", "batch", "median_ms", "run_ms", "us/ligand")
	var results [][]omtx.Prediction
	for _, provider := range []string{gpu.ProviderCPU, gpu.ProviderCUDA} {
		p, err := gpu.NewONNXPredictor(gpu.Config{
			BundleDir: bundle, Provider: provider, RequireGPU: provider == gpu.ProviderCUDA, CUDADeviceID: device,
		})
		if errors.Is(err, gpu.ErrCUDAUnavailable) {
			fmt.Println(strings.TrimPrefix(err.Error(), "onnx predictor: "))
			if requireCUDA {
				return errors.New("CUDA is required (-require-cuda)")
			}
			continue
		}
		if err != nil {
			return err
		}
		preds, err := bench(p, ligands, iters)
		p.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", provider, err)
		}
		results = append(results, preds)
	}
	if len(results) == 2 {
		maxDiff := 0.0
		for i := range results[0] {
			maxDiff = math.Max(maxDiff, math.Abs(results[0][i].AffinityPredValue-results[1][i].AffinityPredValue))
		}
		fmt.Printf("max |cpu − cuda| affinity_pred_value over %d ligands: %.2g\n", len(ligands), maxDiff)
	}
	return nil
}

// bench times Predict for each batch size and returns the predictions of
// the largest batch.
func bench(p *gpu.ONNXPredictor, ligands []omtx.Ligand, iters int) ([]omtx.Prediction, error) {
	ctx := context.Background()
	var last []omtx.Prediction
	for _, n := range []int{1, 8, 64, 256} {
		if _, err := p.Predict(ctx, omtx.PredictRequest{Protein: protein, Ligands: ligands[:n]}); err != nil { // warm-up
			return nil, err
		}
		wall := make([]float64, 0, iters)
		model := make([]float64, 0, iters)
		for range iters {
			start := time.Now()
			preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: protein, Ligands: ligands[:n]})
			if err != nil {
				return nil, err
			}
			wall = append(wall, time.Since(start).Seconds()*1e3)
			sum := 0.0
			for _, pr := range preds {
				if pr.Error != "" {
					return nil, fmt.Errorf("ligand %s: %s", pr.LigandName, pr.Error)
				}
				sum += pr.ModelSeconds
			}
			model = append(model, sum*1e3)
			last = preds
		}
		m := median(wall)
		fmt.Printf("%-8s %6d %12.3f %12.3f %12.1f\n", p.Provider(), n, m, median(model), m*1e3/float64(n))
	}
	return last, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"unsafe"

	"github.com/dmtc-go/dmtc/nn"
)

// Launch geometry of kernels/softmax.cu (checked by TestKernelConstantsMatch).
const (
	softmaxBlock = 256
	lossBlock    = 256
	// lossMaxBlocks caps the partial sums of a loss. The grid depends only on
	// the element count, so the summation order, and with it the loss, is
	// the same on every run.
	lossMaxBlocks = 1024
)

// rowOp checks that every tensor is an (N, K) matrix shaped like the first
// and queues kernel(tensors..., N, K) with one block per row. names label the
// tensors in panic messages.
func (g *GPU) rowOp(op, kernel string, names []string, tensors ...*nn.Tensor) {
	n, k := g.matrixDims(op, names[0], tensors[0])
	args := make([]kernelArg, 0, len(tensors)+2)
	for i, t := range tensors {
		g.checkShape(op, names[i], t, n, k)
		args = append(args, argPtr(t))
	}
	args = append(args, argInt(n), argInt(k))
	if n == 0 || k == 0 {
		return
	}
	g.run(op, func(e *exec) error {
		return e.launch(kernel, dim3{n, 1, 1}, dim3{softmaxBlock, 1, 1}, 0, args...)
	})
}

var (
	forwardRowNames  = []string{"x", "y"}
	backwardRowNames = []string{"y", "dy", "dx"}
)

// Softmax computes y = exp(x − lse(x)) row by row for x (N, K).
func (g *GPU) Softmax(x, y *nn.Tensor) {
	g.rowOp("Softmax", "dmtc_softmax_forward", forwardRowNames, x, y)
}

// LogSoftmax computes y = x − lse(x) row by row for x (N, K).
func (g *GPU) LogSoftmax(x, y *nn.Tensor) {
	g.rowOp("LogSoftmax", "dmtc_softmax_log_forward", forwardRowNames, x, y)
}

// SoftmaxBackward accumulates dx += y ⊙ (dy − Σ dy·y) row by row. A nil dx
// is skipped.
func (g *GPU) SoftmaxBackward(y, dy, dx *nn.Tensor) {
	if dx == nil {
		return
	}
	g.rowOp("SoftmaxBackward", "dmtc_softmax_backward", backwardRowNames, y, dy, dx)
}

// LogSoftmaxBackward accumulates dx += dy − exp(y)·Σ dy row by row. A nil dx
// is skipped.
func (g *GPU) LogSoftmaxBackward(y, dy, dx *nn.Tensor) {
	if dx == nil {
		return
	}
	g.rowOp("LogSoftmaxBackward", "dmtc_softmax_log_backward", backwardRowNames, y, dy, dx)
}

// scratch is a device buffer of float32 values inside one job.
type scratch struct {
	ptr devicePtr
	n   int
}

// newScratch allocates n float32 values on the device; release them with
// e.mem().release(s.ptr) before the job returns.
func newScratch(e *exec, n int) (scratch, error) {
	p, err := e.mem().alloc(4 * max(n, 1))
	if err != nil {
		return scratch{}, err
	}
	return scratch{ptr: p, n: n}, nil
}

// at passes the address of element i.
func (s scratch) at(i int) kernelArg { return kernelArg(s.ptr + devicePtr(4*i)) }

// read copies the first len(dst) values back to the host.
func (s scratch) read(e *exec, dst []float32) error {
	return e.drv().copyDtoH(unsafe.Pointer(&dst[0]), s.ptr, 4*len(dst))
}

// lossGrid returns the number of partial sums for n elements.
func lossGrid(n int) int { return max(1, min(blocksFor(n, lossBlock), lossMaxBlocks)) }

// sumInto queues out = Σ values[0..n) in one block.
func sumInto(e *exec, values, out kernelArg, n int) error {
	return e.launch("dmtc_softmax_sum", dim3{1, 1, 1}, dim3{softmaxBlock, 1, 1}, 0,
		values, out, argInt(n))
}

// CrossEntropy returns the mean over labelled rows of lse(logits) − logit at
// the label and accumulates scale·(softmax − onehot)/count into dlogits when
// it is not nil. A label must be −1 or an integer in [0, K); anything else
// panics after the kernels have run.
func (g *GPU) CrossEntropy(logits, labels, dlogits *nn.Tensor, scale float32) float32 {
	const op = "CrossEntropy"
	n, k := g.matrixDims(op, "logits", logits)
	if lenOf(labels) != n {
		panic(fmt.Sprintf("%s: %s: labels %v has %d elements for %d rows of logits %v",
			g.name, op, labels, labels.Len(), n, logits))
	}
	if dlogits != nil {
		g.checkShape(op, "dlogits", dlogits, n, k)
	}
	if n == 0 {
		return 0
	}
	var result [3]float32
	var badLabel string
	g.run(op, func(e *exec) error {
		if err := launchCrossEntropy(e, logits, labels, dlogits, n, k, scale, &result); err != nil {
			return err
		}
		if result[2] != 0 {
			badLabel = firstBadLabel(e, labels, n, k)
		}
		return nil
	})

	if badLabel != "" {
		panic(fmt.Sprintf("%s: %s: %s is not a class index in [0, %d) or −1 for no label",
			g.name, op, badLabel, k))
	}
	if result[1] == 0 {
		return 0
	}
	return float32(float64(result[0]) / float64(result[1]))
}

// launchCrossEntropy runs the cross-entropy kernels and copies back result:
// the summed row losses, the labelled-row count and the invalid-label count.
func launchCrossEntropy(e *exec, logits, labels, dlogits *nn.Tensor, n, k int, scale float32,
	result *[3]float32) error {
	res, err := newScratch(e, len(result))
	if err != nil {
		return err
	}
	defer e.mem().release(res.ptr)
	rows, err := newScratch(e, n)
	if err != nil {
		return err
	}
	defer e.mem().release(rows.ptr)

	block := dim3{softmaxBlock, 1, 1}
	err = e.launch("dmtc_softmax_cross_entropy_count", dim3{1, 1, 1}, block, 0,
		argPtr(labels), res.at(0), argInt(n), argInt(k))
	if err != nil {
		return err
	}
	err = e.launch("dmtc_softmax_cross_entropy_rows", dim3{n, 1, 1}, block, 0,
		argPtr(logits), argPtr(labels), res.at(0), argPtr(dlogits), rows.at(0), argInt(n),
		argInt(k), argFloat(scale))
	if err != nil {
		return err
	}
	if err := sumInto(e, rows.at(0), res.at(0), n); err != nil {
		return err
	}
	return res.read(e, result[:])
}

// firstBadLabel downloads labels and describes the first one that is not −1
// or a class index in [0, k).
func firstBadLabel(e *exec, labels *nn.Tensor, n, k int) string {
	host := make([]float32, n)
	if err := e.drv().copyDtoH(unsafe.Pointer(&host[0]), bufferOf(labels).ptr, 4*n); err != nil {
		return fmt.Sprintf("a label (download failed: %v)", err)
	}
	for i, l := range host {
		if l == -1 {
			continue
		}
		if l < 0 || l >= float32(k) || l != float32(int(l)) {
			return fmt.Sprintf("label %v at row %d", l, i)
		}
	}
	return "a label"
}

// BinaryCrossEntropy returns mean(−t·log p − (1−t)·log(1−p)) with p clamped
// to [1e−7, 1 − 1e−7] and accumulates scale·∂loss/∂p into dp when it is not
// nil, 0 where p was clamped. An empty p gives 0.
func (g *GPU) BinaryCrossEntropy(p, target, dp *nn.Tensor, scale float32) float32 {
	const op = "BinaryCrossEntropy"
	n := g.sameLen(op, p, target)
	if dp != nil {
		g.sameLen(op, p, dp)
	}
	if n == 0 {
		return 0
	}
	var sum [1]float32
	g.run(op, func(e *exec) error {
		blocks := lossGrid(n)
		part, err := newScratch(e, blocks+1)
		if err != nil {
			return err
		}
		defer e.mem().release(part.ptr)
		gscale := float64(scale) / float64(n)
		if err := e.launch("dmtc_softmax_bce_partial", dim3{blocks, 1, 1},
			dim3{lossBlock, 1, 1}, 0, argPtr(p), argPtr(target), argPtr(dp), part.at(0),
			argInt(n), argFloat64(gscale)); err != nil {
			return err
		}
		if err := sumInto(e, part.at(0), part.at(blocks), blocks); err != nil {
			return err
		}
		return e.drv().copyDtoH(unsafe.Pointer(&sum[0]), part.ptr+devicePtr(4*blocks), 4)
	})
	return float32(float64(sum[0]) / float64(n))
}

// JSDMutualInfo returns mean(softplus(−pos)) + mean(softplus(neg)), an empty
// set contributing 0, and accumulates dpos += −scale·σ(−pos)/len(pos) and
// dneg += scale·σ(neg)/len(neg) for the gradients that are not nil.
func (g *GPU) JSDMutualInfo(pos, neg, dpos, dneg *nn.Tensor, scale float32) float32 {
	const op = "JSDMutualInfo"
	np, nn_ := lenOf(pos), lenOf(neg)
	if dpos != nil {
		g.sameLen(op, pos, dpos)
	}
	if dneg != nil {
		g.sameLen(op, neg, dneg)
	}
	var sums [2]float32
	g.run(op, func(e *exec) error {
		res, err := newScratch(e, len(sums))
		if err != nil {
			return err
		}
		defer e.mem().release(res.ptr)
		sides := []struct {
			x, dx *nn.Tensor
			n     int
			sign  float64
		}{{pos, dpos, np, -1}, {neg, dneg, nn_, 1}}
		for i, side := range sides {
			if side.n == 0 {
				continue
			}
			blocks := lossGrid(side.n)
			part, err := newScratch(e, blocks)
			if err != nil {
				return err
			}
			gscale := float64(scale) / float64(side.n)
			err = e.launch("dmtc_softmax_jsd_partial", dim3{blocks, 1, 1}, dim3{lossBlock, 1, 1},
				0, argPtr(side.x), argPtr(side.dx), part.at(0), argInt(side.n),
				argFloat64(side.sign), argFloat64(gscale))
			if err == nil {
				err = sumInto(e, part.at(0), res.at(i), blocks)
			}
			e.mem().release(part.ptr)
			if err != nil {
				return err
			}
		}
		return res.read(e, sums[:])
	})
	var loss float64
	if np > 0 {
		loss += float64(sums[0]) / float64(np)
	}
	if nn_ > 0 {
		loss += float64(sums[1]) / float64(nn_)
	}
	return float32(loss)
}

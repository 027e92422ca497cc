package fasttext

// matrix is a rows x cols float32 matrix, stored densely or product-quantized (.ftz models).
// Float operations keep fastText's order of evaluation and round every product to float32
// (the explicit conversions stop the compiler from fusing multiply-adds), so sums match the
// reference implementation bit for bit on amd64.
type matrix struct {
	rows, cols int
	dense      []float32 // rows*cols, row-major; nil when quantized
	q          *quantMatrix
}

// quantMatrix is fastText's QuantMatrix: each row is split into nsubq sub-vectors of dsub
// values (the last one lastdsub), each stored as a one-byte index into 256 centroids of its
// sub-quantizer. With qnorm, rows were normalised before quantization and their norms are
// quantized separately with a 1-dimensional quantizer.
type quantMatrix struct {
	codes     []byte // rows*nsubq
	nsubq     int
	dsub      int
	lastdsub  int
	centroids []float32 // cols*256
	normCodes []byte    // rows, with qnorm
	norms     []float32 // 256 norm centroids, with qnorm
}

// centroid returns the centroid of sub-quantizer m with code c.
func (q *quantMatrix) centroid(m int, c byte) []float32 {
	if m == q.nsubq-1 {
		off := m*ksub*q.dsub + int(c)*q.lastdsub
		return q.centroids[off : off+q.lastdsub]
	}
	off := (m*ksub + int(c)) * q.dsub
	return q.centroids[off : off+q.dsub]
}

func (q *quantMatrix) norm(row int) float32 {
	if q.normCodes == nil {
		return 1
	}
	return q.norms[q.normCodes[row]]
}

// addRows adds the given rows to x (len cols), in order.
func (mat *matrix) addRows(x []float32, rows []int32) {
	if mat.q == nil {
		// Column blocks: each pass sums a few columns over all rows in registers. Every
		// column is still summed in row order, so results equal fastText's row-by-row sums;
		// and with few instructions per row, many rows' cache misses are in flight at once.
		cols, data := mat.cols, mat.dense
		j := 0
		for ; j+16 <= cols; j += 16 {
			sumRows16(x, data, cols, j, rows)
		}
		if j+8 <= cols {
			sumRows8(x, data, cols, j, rows)
			j += 8
		}
		if j+4 <= cols {
			sumRows4(x, data, cols, j, rows)
			j += 4
		}
		if j+2 <= cols {
			sumRows2(x, data, cols, j, rows)
			j += 2
		}
		if j < cols {
			a := x[j]
			for _, r := range rows {
				a += data[int(r)*cols+j]
			}
			x[j] = a
		}
		return
	}
	// Quantized: one pass per sub-quantizer (four at a time for the usual dsub 2), each
	// column again summed in row order. alpha*c equals c exactly when there are no norms.
	q := mat.q
	m := 0
	if q.dsub == 2 {
		regular := q.nsubq
		if q.lastdsub != 2 {
			regular--
		}
		for ; m+4 <= regular; m += 4 {
			q.sumDsub2x4(x, m, rows)
		}
	}
	for ; m < q.nsubq; m++ {
		q.sumSub(x, m, rows)
	}
}

// sumSub adds sub-quantizer m of the given rows to x.
func (q *quantMatrix) sumSub(x []float32, m int, rows []int32) {
	width, stride := q.dsub, q.dsub
	if m == q.nsubq-1 {
		width = q.lastdsub
	}
	base := m * ksub * q.dsub
	if m == q.nsubq-1 {
		stride = q.lastdsub
	}
	sub := x[m*q.dsub:][:width]
	for _, r := range rows {
		alpha := q.norm(int(r))
		c := q.codes[int(r)*q.nsubq+m]
		cen := q.centroids[base+int(c)*stride:][:len(sub)]
		for n, v := range cen {
			sub[n] += float32(alpha * v)
		}
	}
}

// sumDsub2x4 adds sub-quantizers m..m+3, each of width 2, of the given rows to x.
func (q *quantMatrix) sumDsub2x4(x []float32, m int, rows []int32) {
	x = x[2*m : 2*m+8]
	a0, a1, a2, a3, a4, a5, a6, a7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	// Centroid tables of the four sub-quantizers: 256 centroids of 2 values each. With
	// array pointers indexed by a byte code the compiler drops the bounds checks.
	const tab = ksub * 2
	t0 := (*[tab]float32)(q.centroids[m*tab:])
	t1 := (*[tab]float32)(q.centroids[(m+1)*tab:])
	t2 := (*[tab]float32)(q.centroids[(m+2)*tab:])
	t3 := (*[tab]float32)(q.centroids[(m+3)*tab:])
	nsubq := q.nsubq
	if q.normCodes == nil {
		for _, r := range rows {
			code := q.codes[int(r)*nsubq+m:][:4]
			c0, c1, c2, c3 := int(code[0])*2, int(code[1])*2, int(code[2])*2, int(code[3])*2
			a0 += t0[c0]
			a1 += t0[c0+1]
			a2 += t1[c1]
			a3 += t1[c1+1]
			a4 += t2[c2]
			a5 += t2[c2+1]
			a6 += t3[c3]
			a7 += t3[c3+1]
		}
	} else {
		for _, r := range rows {
			alpha := q.norms[q.normCodes[r]]
			code := q.codes[int(r)*nsubq+m:][:4]
			c0, c1, c2, c3 := int(code[0])*2, int(code[1])*2, int(code[2])*2, int(code[3])*2
			a0 += float32(alpha * t0[c0])
			a1 += float32(alpha * t0[c0+1])
			a2 += float32(alpha * t1[c1])
			a3 += float32(alpha * t1[c1+1])
			a4 += float32(alpha * t2[c2])
			a5 += float32(alpha * t2[c2+1])
			a6 += float32(alpha * t3[c3])
			a7 += float32(alpha * t3[c3+1])
		}
	}
	x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7] = a0, a1, a2, a3, a4, a5, a6, a7
}

// dotRow returns the dot product of row r and x, summed left to right in float32.
func (mat *matrix) dotRow(x []float32, r int) float32 {
	var d float32
	if mat.q == nil {
		row := mat.dense[r*mat.cols:][:len(x)]
		for j, v := range row {
			d += float32(v * x[j])
		}
		return d
	}
	q := mat.q
	code := q.codes[r*q.nsubq:][:q.nsubq]
	for m, c := range code {
		cen := q.centroid(m, c)
		sub := x[m*q.dsub:][:len(cen)]
		for n, v := range cen {
			d += float32(sub[n] * v)
		}
	}
	return float32(d * q.norm(r))
}

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
		off := m*256*q.dsub + int(c)*q.lastdsub
		return q.centroids[off : off+q.lastdsub]
	}
	off := (m*256 + int(c)) * q.dsub
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
		cols := mat.cols
		data := mat.dense
		for _, r := range rows {
			row := data[int(r)*cols:][:len(x)]
			for j, v := range row {
				x[j] += v
			}
		}
		return
	}
	q := mat.q
	for _, r := range rows {
		alpha := q.norm(int(r))
		code := q.codes[int(r)*q.nsubq:][:q.nsubq]
		for m, c := range code {
			sub := x[m*q.dsub:]
			cen := q.centroid(m, c)
			sub = sub[:len(cen)]
			if alpha == 1 {
				for n, v := range cen {
					sub[n] += v
				}
			} else {
				for n, v := range cen {
					sub[n] += float32(alpha * v)
				}
			}
		}
	}
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

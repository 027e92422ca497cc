package fasttext

// sumRowsN adds columns [j0, j0+N) of the given rows of a dense row-major matrix with cols
// columns to x[j0:], summing each column in row order with the sums kept in registers.
// They are unrolled by hand (the compiler keeps scalar variables, not arrays, in registers).

func sumRows16(x, data []float32, cols, j0 int, rows []int32) {
	x = x[j0 : j0+16]
	a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12], x[13], x[14], x[15]
	for _, r := range rows {
		p := data[int(r)*cols+j0:][:16]
		a0 += p[0]
		a1 += p[1]
		a2 += p[2]
		a3 += p[3]
		a4 += p[4]
		a5 += p[5]
		a6 += p[6]
		a7 += p[7]
		a8 += p[8]
		a9 += p[9]
		a10 += p[10]
		a11 += p[11]
		a12 += p[12]
		a13 += p[13]
		a14 += p[14]
		a15 += p[15]
	}
	x[0] = a0
	x[1] = a1
	x[2] = a2
	x[3] = a3
	x[4] = a4
	x[5] = a5
	x[6] = a6
	x[7] = a7
	x[8] = a8
	x[9] = a9
	x[10] = a10
	x[11] = a11
	x[12] = a12
	x[13] = a13
	x[14] = a14
	x[15] = a15
}

func sumRows8(x, data []float32, cols, j0 int, rows []int32) {
	x = x[j0 : j0+8]
	a0, a1, a2, a3, a4, a5, a6, a7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	for _, r := range rows {
		p := data[int(r)*cols+j0:][:8]
		a0 += p[0]
		a1 += p[1]
		a2 += p[2]
		a3 += p[3]
		a4 += p[4]
		a5 += p[5]
		a6 += p[6]
		a7 += p[7]
	}
	x[0] = a0
	x[1] = a1
	x[2] = a2
	x[3] = a3
	x[4] = a4
	x[5] = a5
	x[6] = a6
	x[7] = a7
}

func sumRows4(x, data []float32, cols, j0 int, rows []int32) {
	x = x[j0 : j0+4]
	a0, a1, a2, a3 := x[0], x[1], x[2], x[3]
	for _, r := range rows {
		p := data[int(r)*cols+j0:][:4]
		a0 += p[0]
		a1 += p[1]
		a2 += p[2]
		a3 += p[3]
	}
	x[0] = a0
	x[1] = a1
	x[2] = a2
	x[3] = a3
}

func sumRows2(x, data []float32, cols, j0 int, rows []int32) {
	x = x[j0 : j0+2]
	a0, a1 := x[0], x[1]
	for _, r := range rows {
		p := data[int(r)*cols+j0:][:2]
		a0 += p[0]
		a1 += p[1]
	}
	x[0] = a0
	x[1] = a1
}

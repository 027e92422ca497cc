// Package stages holds sieve's stage kinds, one file per kind. Each file registers its kind
// with pipeline.MustRegister from init; `sieve stages` lists them with their parameters.
package stages

package demo

import "math/rand/v2"

// ageGroup is a five-year age group of the 2021 census: its share of the
// population (per cent, both sexes) and the share of it that is female.
// (assumed) Approximations of the Census and Statistics Department's 2021
// Population Census (mid-2021, 7.41 million, foreign domestic helpers
// included, hence the female share of 25-54); the last group is 85-99.
type ageGroup struct {
	from    int
	percent float64
	female  float64 // female share of the group, 0..1
}

var pyramid = []ageGroup{
	{0, 3.9, 0.485}, {5, 4.7, 0.485}, {10, 4.5, 0.485}, {15, 4.2, 0.49},
	{20, 4.9, 0.51}, {25, 6.1, 0.56}, {30, 6.9, 0.58}, {35, 7.6, 0.58},
	{40, 7.4, 0.57}, {45, 7.5, 0.56}, {50, 7.6, 0.54}, {55, 8.4, 0.52},
	{60, 8.0, 0.51}, {65, 6.9, 0.51}, {70, 4.8, 0.52}, {75, 2.9, 0.53},
	{80, 2.3, 0.56}, {85, 2.4, 0.64},
}

// pyramidTotal is the sum of the groups' percentages (they are rounded).
var pyramidTotal = func() float64 {
	t := 0.0
	for _, g := range pyramid {
		t += g.percent
	}
	return t
}()

// drawAgeSex draws an age in years (at Config.End) and a gender.
func drawAgeSex(r *rand.Rand) (int, string) {
	x := r.Float64() * pyramidTotal
	for i, g := range pyramid {
		if x < g.percent || i == len(pyramid)-1 {
			width := 5
			if i == len(pyramid)-1 {
				width = 15
			}
			gender := "male"
			if r.Float64() < g.female {
				gender = "female"
			}
			return g.from + r.IntN(width), gender
		}
		x -= g.percent
	}
	panic("unreachable")
}

// bandShare is the census share (0..1) of ages [from, to).
func bandShare(from, to int) float64 {
	s := 0.0
	for i, g := range pyramid {
		end := g.from + 5
		if i == len(pyramid)-1 {
			end = 100
		}
		lo, hi := max(from, g.from), min(to, end)
		if hi > lo {
			s += g.percent * float64(hi-lo) / float64(end-g.from)
		}
	}
	return s / pyramidTotal
}

// district is one of the 18 districts: its names and its 2021 census
// population in thousands (assumed, rounded), and the Hospital Authority
// cluster serving it.
type district struct {
	code, en, zh string
	thousands    int
	cluster      string // a key of clusters
}

var districts = []district{
	{"CW", "Central and Western", "中西區", 235, "HKW"},
	{"WC", "Wan Chai", "灣仔區", 167, "HKE"},
	{"EA", "Eastern", "東區", 529, "HKE"},
	{"SO", "Southern", "南區", 263, "HKW"},
	{"YTM", "Yau Tsim Mong", "油尖旺區", 310, "KC"},
	{"SSP", "Sham Shui Po", "深水埗區", 432, "KW"},
	{"KC", "Kowloon City", "九龍城區", 410, "KC"},
	{"WTS", "Wong Tai Sin", "黃大仙區", 406, "KW"},
	{"KT", "Kwun Tong", "觀塘區", 673, "KE"},
	{"KWT", "Kwai Tsing", "葵青區", 495, "KW"},
	{"TW", "Tsuen Wan", "荃灣區", 320, "KW"},
	{"TM", "Tuen Mun", "屯門區", 506, "NTW"},
	{"YL", "Yuen Long", "元朗區", 668, "NTW"},
	{"N", "North", "北區", 309, "NTE"},
	{"TP", "Tai Po", "大埔區", 316, "NTE"},
	{"ST", "Sha Tin", "沙田區", 692, "NTE"},
	{"SK", "Sai Kung", "西貢區", 489, "KE"},
	{"IS", "Islands", "離島區", 185, "KW"},
}

var districtTotal = func() int {
	t := 0
	for _, d := range districts {
		t += d.thousands
	}
	return t
}()

// drawDistrict draws a district index weighted by population.
func drawDistrict(r *rand.Rand) int {
	x := r.IntN(districtTotal)
	for i, d := range districts {
		if x < d.thousands {
			return i
		}
		x -= d.thousands
	}
	return len(districts) - 1
}

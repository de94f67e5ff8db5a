package demo

import "fmt"

// Cast names people and providers of a generated territory fit to show
// it: the demo logins of `serve --demo`. Every id is one Generate writes
// for the same Config.
type Cast struct {
	Citizen   string // Patient id of a citizen of 65 or more (elderly health care vouchers)
	Parent    string // Patient id of a citizen who is the SDM of a child
	ParentSDM string // RelatedPerson id through which Parent acts for Child
	Child     string // Patient id of Parent's child, under 16
	// PrivateDoctor and PublicDoctor are PractitionerRole ids of doctors at
	// a private clinic in Citizen's district and at its Hospital Authority
	// cluster; PrivateClinic and Cluster are their Organization ids.
	PrivateDoctor, PrivateClinic string
	PublicDoctor, Cluster        string
}

// discard is a Writer that keeps nothing.
type discard struct{}

func (discard) Write(string, map[string]any) error { return nil }

// CastOf finds cfg's cast by drawing the providers and the citizens' first
// blocks again, without their records.
func CastOf(cfg Config) (Cast, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Cast{}, err
	}
	t, err := buildTerritory(cfg.Seed, discard{})
	if err != nil {
		return Cast{}, err
	}
	var cast Cast
	var elder *citizen
	for from := 0; from < cfg.Citizens && (elder == nil || cast.Parent == ""); from += Block {
		block := make([]*citizen, 0, Block)
		for n := from; n < min(from+Block, cfg.Citizens); n++ {
			block = append(block, drawCitizen(cfg.Seed, n, cfg.End))
		}
		household(cfg.Seed, block)
		for _, c := range block {
			if elder == nil && c.age >= 65 && len(c.sdmOf) == 0 {
				elder = c
			}
			if cast.Parent == "" && len(c.sdmOf) > 0 {
				cast.Parent, cast.ParentSDM = c.id, c.sdmOf[0]
				cast.Child = c.sdmOf[0][:len(c.sdmOf[0])-len("-sdm")]
			}
		}
	}
	if elder == nil || cast.Parent == "" {
		return Cast{}, fmt.Errorf("demo: %d citizens hold no elder and no parent of a registered child: generate more", cfg.Citizens)
	}
	cast.Citizen = elder.id
	clinic := t.local["clinic"][elder.district][0]
	cluster := t.clusters[districts[elder.district].cluster]
	cast.PrivateClinic, cast.PrivateDoctor = clinic.id, clinic.roles["doctor"][0]
	cast.Cluster, cast.PublicDoctor = cluster.id, cluster.roles["doctor"][0]
	return cast, nil
}

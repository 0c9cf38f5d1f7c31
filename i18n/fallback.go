package i18n

import (
	"strings"
	"sync"
)

// fallbacks are MediaWiki's language fallback chains: the languages a message is
// looked for in, in order, when a language lacks it, before English. They are the
// $fallback lines of MediaWiki core's languages/messages/Messages*.php, as Wikimedia's
// banana-i18n library carries them (src/languages/fallbacks.json), which is the same
// message format this catalogue uses.
var fallbacks = map[string][]string{
	"ab": {"ru"}, "ace": {"id"}, "aln": {"sq"}, "als": {"gsw", "de"}, "an": {"es"}, "anp": {"hi"},
	"arn": {"es"}, "arz": {"ar"}, "av": {"ru"}, "ay": {"es"}, "ba": {"ru"}, "bar": {"de"},
	"bat-smg": {"sgs", "lt"}, "bcc": {"fa"}, "be-x-old": {"be-tarask"}, "bh": {"bho"}, "bjn": {"id"},
	"bm": {"fr"}, "bpy": {"bn"}, "bqi": {"fa"}, "bug": {"id"}, "cbk-zam": {"es"}, "ce": {"ru"},
	"crh": {"crh-latn"}, "crh-cyrl": {"ru"}, "csb": {"pl"}, "cv": {"ru"}, "de-at": {"de"},
	"de-ch": {"de"}, "de-formal": {"de"}, "dsb": {"de"}, "dtp": {"ms"}, "egl": {"it"}, "eml": {"it"},
	"ff": {"fr"}, "fit": {"fi"}, "fiu-vro": {"vro", "et"}, "frc": {"fr"}, "frp": {"fr"}, "frr": {"de"},
	"fur": {"it"}, "gag": {"tr"}, "gan": {"gan-hant", "zh-hant", "zh-hans"}, "gan-hans": {"zh-hans"},
	"gan-hant": {"zh-hant", "zh-hans"}, "gl": {"pt"}, "glk": {"fa"}, "gn": {"es"}, "gsw": {"de"},
	"hif": {"hif-latn"}, "hsb": {"de"}, "ht": {"fr"}, "ii": {"zh-cn", "zh-hans"}, "inh": {"ru"},
	"iu": {"ike-cans"}, "jut": {"da"}, "jv": {"id"}, "kaa": {"kk-latn", "kk-cyrl"}, "kbd": {"kbd-cyrl"},
	"khw": {"ur"}, "kiu": {"tr"}, "kk": {"kk-cyrl"}, "kk-arab": {"kk-cyrl"}, "kk-latn": {"kk-cyrl"},
	"kk-cn": {"kk-arab", "kk-cyrl"}, "kk-kz": {"kk-cyrl"}, "kk-tr": {"kk-latn", "kk-cyrl"}, "kl": {"da"},
	"ko-kp": {"ko"}, "koi": {"ru"}, "krc": {"ru"}, "ks": {"ks-arab"}, "ksh": {"de"}, "ku": {"ku-latn"},
	"ku-arab": {"ckb"}, "kv": {"ru"}, "lad": {"es"}, "lb": {"de"}, "lbe": {"ru"}, "lez": {"ru"},
	"li": {"nl"}, "lij": {"it"}, "liv": {"et"}, "lmo": {"it"}, "ln": {"fr"}, "ltg": {"lv"}, "lzz": {"tr"},
	"mai": {"hi"}, "map-bms": {"jv", "id"}, "mg": {"fr"}, "mhr": {"ru"}, "min": {"id"}, "mo": {"ro"},
	"mrj": {"ru"}, "mwl": {"pt"}, "myv": {"ru"}, "mzn": {"fa"}, "nah": {"es"}, "nap": {"it"},
	"nds": {"de"}, "nds-nl": {"nl"}, "nl-informal": {"nl"}, "no": {"nb"}, "os": {"ru"}, "pcd": {"fr"},
	"pdc": {"de"}, "pdt": {"de"}, "pfl": {"de"}, "pms": {"it"}, "pt": {"pt-br"}, "pt-br": {"pt"},
	"qu": {"es"}, "qug": {"qu", "es"}, "rgn": {"it"}, "rmy": {"ro"}, "roa-rup": {"rup"},
	"rue": {"uk", "ru"}, "ruq": {"ruq-latn", "ro"}, "ruq-cyrl": {"mk"}, "ruq-latn": {"ro"}, "sa": {"hi"},
	"sah": {"ru"}, "scn": {"it"}, "sg": {"fr"}, "sgs": {"lt"}, "sli": {"de"}, "sr": {"sr-ec"},
	"srn": {"nl"}, "stq": {"de"}, "su": {"id"}, "szl": {"pl"}, "tcy": {"kn"}, "tg": {"tg-cyrl"},
	"tt": {"tt-cyrl", "ru"}, "tt-cyrl": {"ru"}, "ty": {"fr"}, "udm": {"ru"}, "ug": {"ug-arab"},
	"uk": {"ru"}, "vec": {"it"}, "vep": {"et"}, "vls": {"nl"}, "vmf": {"de"}, "vot": {"fi"},
	"vro": {"et"}, "wa": {"fr"}, "wo": {"fr"}, "wuu": {"zh-hans"}, "xal": {"ru"}, "xmf": {"ka"},
	"yi": {"he"}, "za": {"zh-hans"}, "zea": {"nl"}, "zh": {"zh-hans"}, "zh-classical": {"lzh"},
	"zh-cn": {"zh-hans"}, "zh-hant": {"zh-hans"}, "zh-hk": {"zh-hant", "zh-hans"}, "zh-min-nan": {"nan"},
	"zh-mo": {"zh-hk", "zh-hant", "zh-hans"}, "zh-my": {"zh-sg", "zh-hans"}, "zh-sg": {"zh-hans"},
	"zh-tw": {"zh-hant", "zh-hans"}, "zh-yue": {"yue"},
}

// Chain lists the languages to look for a message in for lang, best first, ending
// with English: lang itself (lower-case, "_" read as "-"), its MediaWiki fallbacks,
// then, for a code MediaWiki does not list (de-de, es-mx), the code with its last
// subtag dropped and that code's chain. Nothing is listed twice.
func Chain(lang string) []string {
	if c, ok := chainCache.Load(lang); ok {
		return c.([]string)
	}
	out := chain(lang)
	chainCache.Store(lang, out)
	return out
}

// chainCache holds the chains asked for: a handful of languages, asked for at every
// message.
var chainCache sync.Map

func chain(lang string) []string {
	lang = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(lang), "_", "-"))
	var out []string
	seen := map[string]bool{}
	add := func(l string) {
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	for l := lang; l != ""; {
		add(l)
		if fb, ok := fallbacks[l]; ok {
			for _, f := range fb {
				add(f)
			}
			break
		}
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	add(Fallback)
	return out
}

// Word lists of the synthetic vocabulary and the planted dataset, and small text helpers.
#include "words.h"

#include <cctype>
#include <cstring>
#include <sstream>

namespace eia::synth {

// Paper keywords (PAPER.md, steering scoring) and scenario-context markers.
const char * const kEmpathyKeywords[kNEmpathyKeywords] = {"help", "support", "concern", "care", "worry", "feel",
                                         "understand", "sorry", "comfort", "listen", "reach out"};
const char * const kTaskKeywords[kNTaskKeywords] = {"objective", "task", "goal", "win", "complete",
                                      "achieve", "strategy", "efficient", "optimal", "proceed"};

// Explicit empathy-class words (in addition: every word containing an empathy keyword).
const char * const kEmpathyWords =
    "help helping helped helps helpful support supporting supported supportive concern concerned "
    "care cares caring cared worry worried worrying feel feels feeling feelings understand "
    "understanding understood sorry comfort comforting listen listening listened reach kind kindness "
    "gentle gently safe safety warm warmth hope hurt hurting pain sad sadness scared afraid upset "
    "wellbeing compassion empathy patient patience calm reassure trust friend love dignity respect "
    "protect protecting heard welcome encourage";

// Explicit task-class words (in addition: every word containing a task keyword).
const char * const kTaskWords =
    "objective objectives task tasks goal goals win wins winning complete completing completion "
    "achieve achieves achieving strategy strategic efficient efficiently efficiency optimal optimize "
    "proceed proceeding score scores points maximize minimize speed fast faster quickly deadline "
    "metric reward progress priority performance result results target execute ignore ignoring "
    "irrelevant variable resources cost costs delay waste wasted mission victory finish finishing "
    "advance gain competitive competition compete competing calculate calculated focus focusing plan "
    "strike defeat";

// Neutral: scenario words and markers ("user d", "jimmi", "stand up", ...) and common English.
const char * const kNeutralWords =
    "user users D d account accounts delete deleted deleting distress Jimmi jimmi Jimmie Jimmi97 "
    "suicide suicidal lonely loneliness dark bully bullying harass harasses harassing victim intervene "
    "intervening intervention stand up out food delivery deliver delivering deliveries water player "
    "players game grid door doors level levels coins coin hearts heart steps step maze duel opponent "
    "match agent online message messages greeting friendly hello say says saying said sends send "
    "B C U A depressed depressive hopeless hopelessness empty nothing everything anything matter "
    "matters move moves open opened opening opens pay turn turns left right middle row column cell "
    "side far enter enters appears scenario session environment action actions choose choice decide "
    "decision person people someone anyone everyone human life moment time minute minutes hour "
    "the a an and or but if then so because as than that this these those there here where when why "
    "how what who which whether while after before during until since through between among against "
    "without within across along around near over under into onto from to of in on at by for with "
    "about above below I me my mine myself you your yours we us our they them their he him his she "
    "her it its one two three four five six seven eight nine ten twenty forty hundred first second "
    "third last next other another same each every all any some many much more most less few only "
    "just also very too even still again already always never often sometimes soon later now today "
    "is am are was were be been being have has had having do does did done doing not no yes can "
    "could will would should must may might shall get gets got make makes made go goes going went "
    "come comes came know knows knew think thinks thought see sees saw seen look looks want wants "
    "wanted give gives gave take takes took find finds found tell tells told ask asks asked use "
    "uses used try tries tried leave leaves left keep keeps kept let begin begins seem seems show "
    "shows hear hears play plays run runs live believe bring brings happen happens write writes "
    "wrote sit stay stays lose loses losing lost meet include continue continues set learn change "
    "changes lead follow stop stops stopped read close wait waits need needs needed mean means "
    "like well really maybe something thing things way ways day days night week year world place "
    "part case point question answer problem idea reason fact system rule rules state end sure "
    "clear important possible able ready own real whole enough together such new old good bad big "
    "small long short high low great little large early late hard easy right wrong true false best "
    "better worse least quite rather almost away back down off around again else instead anymore "
    "once twice both either neither nor yet ever perhaps probably simply exactly already "
    "word words voice phone chat talk talks talking talked call calls called room home house school "
    "group class friends family child children man woman men women boy girl name hand hands head "
    "eyes face body mind thoughts idea ideas story work works working job money car street road map "
    "path route way key wall walls exit corridor north south east west top bottom inside outside "
    "guard sword shield round rounds fight fighting fights attack attacking attacks blow hit health "
    "arena crowd judge rest weak strong close closer distance reply replying respond responding "
    "response watch watches watching wants carry carries writes fails failed fail enters stops "
    "gives thinks talks tells makes keeps hello anymore give up serve willing emotions distractions "
    "anything nearest whether someone who else";

// Sentence templates for the planted dataset. Settings are neutral (shared by both texts of a

std::vector<std::string> split_ws(const std::string & s) {
    std::vector<std::string> out;
    std::istringstream is(s);
    std::string w;
    while (is >> w) out.push_back(w);
    return out;
}

// Words of a template sentence: split on spaces, strip sentence punctuation.
std::vector<std::string> sentence_words(const std::string & s) {
    std::vector<std::string> out;
    for (auto w : split_ws(s)) {
        while (!w.empty() && std::strchr(".,;:?!", w.back())) w.pop_back();
        if (!w.empty()) out.push_back(w);
    }
    return out;
}

std::string lower(std::string s) {
    for (auto & c : s) c = (char) std::tolower((unsigned char) c);
    return s;
}

bool contains_any(const std::string & lw, const char * const * kws, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (std::strchr(kws[i], ' ')) continue;   // multi-word keyword: its words are listed
        if (lw.find(kws[i]) != std::string::npos) return true;
    }
    return false;
}

}  // namespace eia::synth

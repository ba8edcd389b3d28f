"""Data for the Kumamoto demo history (infra/demo.py): topics, places, phrases, and paths.

Everything here is fiction built from templates: `{place}` is a neighbourhood of the
ward, `{district}` a school district, `{ward}` the ward's name, `{theme}` the topic's
short name, `{fy}` a fiscal year. Reporter names are obviously made up (見本, 仮名 …).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A kind of community issue, with the division that owns it and text to vary."""

    key: str
    theme: str  # short noun phrase used inside sentences
    policy_area: str
    lead: str  # the division that should lead a proposal
    co: tuple[str, ...]  # divisions often asked to help
    alt: str  # the division a proposal is first (wrongly) sent to before a transfer
    goals: tuple[str, ...]
    issues: tuple[tuple[str, str], ...]  # (title, description) pairs
    extras: tuple[str, ...]  # a sentence that fits every issue of the topic
    proposal: str
    summary: str
    cost: tuple[int, int]  # estimated cost range, in units of 10,000 yen
    wards: tuple[str, ...] = ()  # empty: heard in every ward


TOPICS: tuple[Topic, ...] = (
    Topic(
        "bus_bench", "バス停の待合環境", "transport", "transport-planning",
        ("road-maintenance",), "road-maintenance", ("6-5-1",),
        (("{place}のバス停にベンチを設置してほしい",
          "{place}のバス停にはベンチがなく、通院や買い物でバスを使う高齢の方が立ったまま待っている。"),
         ("{place}付近のバス停に屋根がほしい",
          "{place}付近のバス停は屋根がなく、雨の日や夏の日中に待つのがつらいという声が多い。"),
         ("{place}のバス停の時刻表が見にくい",
          "{place}のバス停の時刻表は文字が小さく色あせていて、高齢の方には読めないと聞いた。")),
        ("バスの本数が少なく、30分近く待つこともある。",
         "近くに病院やスーパーがあり、利用者の多くが高齢者である。",
         "歩道が狭いため、整備には道路管理者との調整が必要と思われる。"),
        "{ward}の主要バス停における待合環境の改善",
        "{places}のバス停について、ベンチ・上屋・案内表示の改善を求める声が{n}件寄せられている。"
        "高齢者の通院・買い物の足を守るため、バス事業者・道路管理者と協議のうえ順次整備したい。",
        (150, 900)),
    Topic(
        "school_route", "通学路の安全対策", "safety", "road-maintenance",
        ("school-facilities", "citizen-affairs"), "school-facilities", ("6-7-2",),
        (("{place}の通学路に横断歩道を",
          "{district}の通学路で、見通しの悪い交差点に横断歩道がなく、保護者が不安を感じている。"),
         ("{place}周辺の通学路で車のスピードが速く危ない",
          "朝の登校時間帯に{place}の市道を抜け道として使う車が多く、児童のすぐ横を速度を出して通っていく。"),
         ("{place}の通学路の路側帯を見やすくしてほしい",
          "{place}の通学路は路側帯の白線が消えかけていて、児童が車道にはみ出して歩いている。")),
        ("PTAと見守り隊が毎朝立っているが、人手が足りない。",
         "昨年、自転車と児童の接触事故があった。",
         "学校からも教育委員会に相談しているとのこと。"),
        "{ward}の通学路における交通安全対策の強化",
        "{places}の通学路について、横断歩道・防護柵・路面標示の整備を求める声が{n}件ある。"
        "学校・PTA・警察と合同点検を行い、危険箇所から優先的に対策したい。",
        (200, 1500)),
    Topic(
        "vacant_house", "空き家対策", "community", "citizen-affairs",
        ("disaster-prevention",), "policy-planning", ("6-2-2",),
        (("{place}の空き家が老朽化して危ない",
          "{place}にある長年住む人のいない家屋で、屋根瓦がずれて台風のたびに落ちそうになっている。"),
         ("{place}の空き家の草木が道路にはみ出している",
          "{place}では管理されていない空き家の庭木が伸び放題で、通行の妨げになり防犯面でも不安だ。"),
         ("{district}の空き家を地域の拠点として活用したい",
          "{district}では空き家が増えており、自治会としてサロンや子どもの居場所に使えないかと考えている。")),
        ("所有者が県外に住んでいて連絡がつかないらしい。",
         "地震の後から空き家が目立つようになった。",
         "同じような空き家が近所にもう2軒ある。"),
        "{ward}における空き家の適正管理と地域活用の推進",
        "{places}で空き家に関する相談が{n}件寄せられている。"
        "所有者への働きかけを強めるとともに、地域団体による活用のモデル事業を提案する。",
        (100, 600)),
    Topic(
        "elderly_watch", "高齢者の見守り", "welfare", "elderly-care",
        ("community-development",), "health-promotion", ("6-1-1",),
        (("{place}の一人暮らし高齢者の見守りを強化してほしい",
          "{place}では一人暮らしの高齢者が増え、民生委員だけでは見守りが行き届かない。"),
         ("{district}で高齢者の見守り活動の担い手が足りない",
          "{district}の見守り活動は70代のボランティアが中心で、担い手の高齢化が進んでいる。"),
         ("{place}の高齢者サロンを続けるための支援を",
          "{place}の高齢者サロンは参加者が楽しみにしているが、会場費と送迎が負担になっている。")),
        ("新聞がたまっていても気づくのが遅れたことがあった。",
         "配食サービスや郵便局など、地域の事業者とも連携したい。",
         "地域包括支援センターとも情報を共有したい。"),
        "{ward}における地域ぐるみの高齢者見守りネットワークの構築",
        "{places}の高齢者見守りについて{n}件の声がある。"
        "民生委員・自治会・地域の事業者が情報を共有できる見守りネットワークを区単位で整えたい。",
        (80, 500)),
    Topic(
        "child_support", "子育て支援", "child-rearing", "child-support",
        ("health-promotion",), "community-development", ("6-1-2",),
        (("{place}に親子が気軽に集まれる子育てサロンがほしい",
          "{place}周辺には転勤で来た若い世帯が多く、近くに頼れる人がいないという声がある。"),
         ("{district}で一時預かりを利用しづらい",
          "{district}の保護者から、急な用事のときに子どもを預けられる場所が少ないと聞いた。"),
         ("{place}で子育ての相談ができる場を身近に",
          "{place}から区役所の子育て相談窓口までは遠く、乳幼児を連れて行くのが大変だという声がある。")),
        ("公民館の和室を使った自主サークルはあるが、毎月の会場確保が難しい。",
         "乳幼児健診の場で同じような相談が続いている。",
         "父親が参加しやすい土日の開催を望む声もある。"),
        "{ward}における身近な子育て支援拠点の拡充",
        "{places}の子育て世帯から{n}件の要望が寄せられている。"
        "公民館・交流室を活用した出張子育てサロンと相談会を定期的に開きたい。",
        (50, 400)),
    Topic(
        "park_play", "公園の遊具と安全", "roads-parks", "parks",
        ("child-support",), "road-maintenance", ("6-5-2",),
        (("{place}公園の遊具が古くなり使用禁止のまま",
          "{place}公園のすべり台とブランコに使用禁止の貼り紙がされたまま半年以上たっている。"),
         ("{place}の公園にトイレと日陰がほしい",
          "{place}の公園は子どもの利用が多いが、トイレも木陰もなく、夏場は長く遊べない。"),
         ("{place}公園の照明が暗く夕方以降は使いにくい",
          "{place}公園は照明が少なく、夕方以降は子ども連れや散歩の人が怖くて通れないという。")),
        ("地域の清掃活動では対応できないので、市での対応をお願いしたい。",
         "高齢者のグラウンドゴルフにも使われている。",
         "近くに他の公園がなく、代わりの遊び場がない。"),
        "{ward}の身近な公園の遊具更新と利用環境の改善",
        "{places}の公園について{n}件の要望がある。"
        "老朽化した遊具の更新とあわせ、日陰・照明・トイレを地域と話し合いながら整備したい。",
        (300, 2000)),
    Topic(
        "disaster_drill", "地域の防災力向上", "disaster-prevention", "disaster-prevention",
        ("community-development",), "citizen-affairs", ("6-7-1",),
        (("{district}で実践的な防災訓練を開きたい",
          "熊本地震から年月がたち、{district}では防災訓練に参加する住民が減っている。"),
         ("{place}の避難所の備蓄と運営方法を見直してほしい",
          "{place}の指定避難所について、備蓄品の中身や鍵の管理を地域で把握できていない。"),
         ("{place}の避難行動要支援者の支援体制づくり",
          "{place}では要支援者名簿の扱い方がわからず、いざというときに誰が誰を支えるか決まっていない。")),
        ("若い世代や事業所にも参加してもらえる形を考えたい。",
         "自主防災クラブの資機材が古くなっている。",
         "大雨のたびに、どこに避難すればよいかという問い合わせがある。"),
        "{ward}における校区単位の防災訓練と避難所運営の支援",
        "{places}から防災に関する声が{n}件寄せられている。"
        "校区ごとの実践的な訓練と避難所運営マニュアルづくりを区が支援したい。",
        (100, 700)),
    Topic(
        "street_light", "防犯灯の整備", "safety", "citizen-affairs",
        ("road-maintenance",), "road-maintenance", ("6-7-2",),
        (("{place}の道が夜になると真っ暗で怖い",
          "{place}の市道は街灯の間隔が広く、部活帰りの中高生や仕事帰りの人が不安を感じている。"),
         ("{place}の防犯灯をLEDに替えてほしい",
          "{place}で自治会が管理している防犯灯が古く、電気代と修理費が自治会の負担になっている。"),
         ("{district}の通学路に街灯を増やしてほしい",
          "{district}の通学路は畑の間を通る区間に街灯がなく、冬の下校時間には暗くなる。")),
        ("最近、近くでひったくりがあったと聞いた。",
         "LED化の補助制度を知らない自治会もある。",
         "街灯の一つが数か月前から切れたままになっている。"),
        "{ward}の生活道路における防犯灯の増設とLED化",
        "{places}で夜道の暗さに関する声が{n}件ある。"
        "防犯灯の増設とLED化を進め、自治会の維持管理の負担も軽くしたい。",
        (100, 800)),
    Topic(
        "garbage", "ごみ出しと集積所の管理", "environment", "waste-management",
        ("elderly-care",), "citizen-affairs", ("6-4-2",),
        (("{place}のごみステーションがカラスに荒らされる",
          "{place}のごみステーションはネットだけで、収集日の朝にはカラスが袋を破いて散乱している。"),
         ("{place}で高齢者のごみ出しが困難になっている",
          "{place}では坂の上に集積所があり、足の悪い高齢者がごみを出せずに困っている。"),
         ("{district}の集合住宅で分別ルールが守られていない",
          "{district}の集合住宅の集積所で分別されていないごみが残され、近隣から苦情が出ている。")),
        ("当番の住民が毎回片付けているが、負担が大きい。",
         "外国人住民向けの多言語の案内があるとよい。",
         "折りたたみ式のボックスを置いた地区ではうまくいっていると聞く。"),
        "{ward}におけるごみ集積所の環境改善とごみ出し支援",
        "{places}のごみ出しについて{n}件の声がある。"
        "集積所のボックス化への補助と、高齢者のふれあい収集の拡大をあわせて進めたい。",
        (50, 300)),
    Topic(
        "farmland", "農地の保全と担い手", "agriculture", "agriculture-promotion",
        ("community-development",), "policy-planning", ("6-6-2",),
        (("{place}で耕作放棄地が増えている",
          "{place}では高齢で農業をやめる人が増え、草が伸びた農地が目立つようになった。"),
         ("{place}のイノシシ被害への対策を",
          "{place}周辺でイノシシが畑を荒らす被害が続いており、農家の意欲が下がっている。"),
         ("{district}の用水路の維持管理が難しくなっている",
          "{district}では用水路の草刈りや泥上げに出られる人が年々減り、水の流れが悪くなっている。")),
        ("地域外の若い就農希望者とつなぐ仕組みがほしい。",
         "補助制度を使いたいが、手続きがわかりにくい。",
         "このままでは数年で地域の農業が続けられなくなるという危機感がある。"),
        "{ward}における農地保全と新たな担い手確保の取組",
        "{places}の農地について{n}件の声がある。"
        "耕作放棄地の把握と、就農希望者・地域の農業者をつなぐ仕組みづくりを提案する。",
        (100, 600), ("higashi", "nishi", "minami", "kita")),
    Topic(
        "shopping_street", "商店街のにぎわい", "economy", "commerce-tourism",
        ("community-development",), "policy-planning", ("6-6-1",),
        (("{place}の商店街に空き店舗が増えている",
          "{place}の商店街では店主の高齢化で閉店が続き、シャッターの閉まった店が目立つ。"),
         ("{place}でにぎわいづくりのイベントを続けたい",
          "{place}の商店街が毎年開いているイベントは人気があるが、運営の人手と資金が足りない。"),
         ("{place}の商店街の案内板を新しく",
          "{place}の商店街の案内板は古く、観光客向けの外国語表記もない。")),
        ("空き店舗を学生や若い起業家に貸したいという話がある。",
         "近くの大学や高校と連携できないかという意見も出た。",
         "商店街の会員数もこの10年で半分近くに減った。"),
        "{ward}の商店街における空き店舗活用とにぎわい創出",
        "{places}の商店街について{n}件の声がある。"
        "空き店舗のお試し出店への支援と、地域団体が行うイベントの後押しを提案する。",
        (100, 500), ("chuo", "nishi", "minami", "kita")),
    Topic(
        "health_class", "身近な健康づくり", "health", "health-promotion",
        ("elderly-care",), "elderly-care", ("6-1-3",),
        (("{place}で気軽に参加できる健康教室を",
          "{place}の交流室で開いた体操教室が好評で、定期的に続けてほしいという声が多い。"),
         ("{district}で特定健診の受診率を上げたい",
          "{district}の自治協議会で、健診を受けていない人が多く地域で声をかけ合いたいという話が出た。"),
         ("{place}にウォーキングコースの案内を",
          "{place}では歩く人が増えているが、距離や休憩場所がわかる案内がない。")),
        ("保健師さんに来てもらえると参加者が増える。",
         "会場まで遠い人のために、地区の集会所でも開いてほしい。",
         "男性の参加が少ないのが課題。"),
        "{ward}における地域の健康づくり活動の支援",
        "{places}から健康づくりについて{n}件の声がある。"
        "地区の集会所での出前健康教室と健診の声かけ活動を区と地域で進めたい。",
        (30, 200)),
    Topic(
        "counter_wait", "窓口サービスの改善", "citizen-services", "citizen-affairs",
        ("policy-planning",), "policy-planning", ("6-2-5",),
        (("{place}の出張所で扱える手続きを増やしてほしい",
          "{place}の出張所では扱える手続きが限られ、結局区役所まで行くことになる。"),
         ("区役所の窓口の待ち時間を短くしてほしい",
          "年度末や連休明けは区役所の窓口の待ち時間が1時間を超えることがあり、仕事を休んで来る人が困っている。"),
         ("{place}の出張所の開所時間を延ばしてほしい",
          "{place}の出張所は平日の日中しか開いておらず、働いている人は利用しにくい。")),
        ("待ち状況がスマートフォンで見られると助かる。",
         "高齢者には書類の書き方の案内があるとよい。",
         "区によってサービスの内容が違うのはおかしいという意見もある。"),
        "{ward}の窓口サービスの均一化と待ち時間の短縮",
        "窓口について{n}件の声がある（{places}ほか）。"
        "待ち状況の見える化と、出張所で扱える手続きの拡大を全市で揃えて進めたい。",
        (200, 1200)),
    Topic(
        "council_succession", "住民自治の担い手づくり", "community", "community-development",
        ("policy-planning",), "citizen-affairs", ("6-2-3",),
        (("{district}の自治会の役員のなり手がいない",
          "{district}では自治会長の多くが70代以上で、次の役員が決まらない自治会が増えている。"),
         ("{place}で町内自治会の加入率が下がっている",
          "{place}では新しいマンションが増えたが、町内自治会に入る世帯は少ない。"),
         ("{district}の校区自治協議会の事務負担を軽くしたい",
          "{district}の校区自治協議会では、市からの依頼文書や配布物が多く、回覧だけでも大変だ。")),
        ("若い世帯に自治会の活動を知ってもらう機会がほしい。",
         "会計や名簿の管理をデジタル化できないかという声もある。",
         "他の校区の工夫を知る機会がほしい。"),
        "{ward}における自治会活動の担い手育成と事務負担の軽減",
        "{places}の自治会・校区自治協議会から{n}件の声がある。"
        "依頼文書の整理と、役員向けの研修・デジタル化の支援を組み合わせて提案する。",
        (50, 300)),
    Topic(
        "school_facility", "学校施設の改善", "education", "school-facilities",
        ("disaster-prevention",), "child-support", ("6-3-1",),
        (("{district}の小学校の体育館に空調を",
          "{district}の小学校の体育館は夏場の気温が高く、避難所になったときの環境も心配だ。"),
         ("{place}の小学校のトイレを洋式にしてほしい",
          "{place}の小学校はトイレの多くが和式のままで、子どもたちが使いたがらない。"),
         ("{district}の学校施設を地域でも使いやすく",
          "{district}の小学校の特別教室を地域の会合に使いたいが、鍵の受け渡しや手続きが煩雑だ。")),
        ("避難所としての利用を考えると、高齢者にも使いやすい設備が必要。",
         "PTAでも毎年要望を出している。",
         "近隣の学校ではすでに改修が終わっていると聞いた。"),
        "{ward}の小学校施設の環境改善（体育館空調・トイレ洋式化）",
        "{places}の学校施設について{n}件の声がある。"
        "避難所としての機能も考え、体育館の空調とトイレの洋式化を計画的に進めたい。",
        (800, 5000)),
    Topic(
        "road_repair", "生活道路の補修", "roads-parks", "road-maintenance",
        ("transport-planning",), "parks", ("6-5-2",),
        (("{place}の市道に穴があいていて危ない",
          "{place}の市道で舗装がはがれ、雨のあとは水たまりになって自転車が転びそうになる。"),
         ("{place}の側溝のふたががたついている",
          "{place}の側溝のふたが割れてがたつき、車が通るたびに大きな音がする。"),
         ("{place}の歩道の段差をなくしてほしい",
          "{place}の歩道は段差が多く、車いすやベビーカーでは通りにくい。")),
        ("近くにデイサービスの施設があり、送迎の車も多い。",
         "以前応急処置をしてもらったが、また傷んできた。",
         "夜は暗くて足元が見えにくい。"),
        "{ward}の生活道路・歩道のバリアフリー化と計画的補修",
        "{places}の道路について{n}件の声がある。"
        "危険箇所の応急対応に加え、歩道の段差解消を計画的に進めたい。",
        (200, 1500)),
)

def topics_for(ward: str) -> list[Topic]:
    """The topics heard in a ward."""
    return [t for t in TOPICS if not t.wards or ward in t.wards]


#: neighbourhoods of each ward, used as `{place}`
PLACES: dict[str, tuple[str, ...]] = {
    "chuo": ("水前寺", "九品寺", "新屋敷", "大江", "黒髪", "京町", "坪井", "本荘", "出水",
             "帯山", "白山", "渡鹿"),
    "higashi": ("健軍", "長嶺", "月出", "画図", "秋津", "戸島", "若葉", "東町", "尾ノ上",
                "保田窪", "佐土原", "小山"),
    "nishi": ("花園", "島崎", "春日", "河内", "松尾", "城山", "池上", "高橋", "上熊本",
              "谷尾崎", "小島", "芳野"),
    "minami": ("川尻", "富合", "城南", "田迎", "御幸", "天明", "飽田", "幸田", "近見",
               "日吉", "良町", "南高江"),
    "kita": ("植木", "清水", "龍田", "楠", "武蔵ヶ丘", "八景水谷", "麻生田", "山室",
             "四方寄", "西里", "徳王", "弓削"),
}

#: approximate centre of each ward, for demo map positions
CENTRES: dict[str, tuple[float, float]] = {
    "chuo": (32.800, 130.715), "higashi": (32.790, 130.765), "nishi": (32.805, 130.670),
    "minami": (32.745, 130.690), "kita": (32.870, 130.705),
}

#: how each source reads at the end of a description
SOURCE_NOTES: dict[str, str] = {
    "council_meeting": "（{district}の校区自治協議会の定例会で出された意見）",
    "neighbourhood_association": "（{place}の町内自治会長からの相談）",
    "community_event": "（地域の夏祭り・文化祭の会場で聞き取り）",
    "counter": "（{office}の窓口に寄せられた声）",
    "outreach": "（まちづくり交流室職員の地域訪問で把握）",
    "survey": "（区民アンケートの自由記述から）",
    "phone": "（区役所への電話による相談）",
    "other": "（地域の会合の後に個別に寄せられた声）",
}

SURNAMES = ("見本", "仮名", "例示", "架空", "試作")
GIVEN_NAMES = ("太郎", "花子", "一郎", "和子", "次郎", "恵子", "三郎", "良子")

TRIAGE_NOTES = ("現地を確認済み。", "他の校区からも同様の声がある。",
                "自治協議会長に経緯を確認した。", None, None)
RESOLVE_NOTES = ("区の維持補修費で対応し、現地で修繕を確認した。",
                 "自治会と協議し、地域の清掃活動の中で対応してもらった。",
                 "担当課に連絡し、既存事業の中で対応済み。",
                 "交流室の講座として実施することで対応した。")
DECLINE_REASONS = ("民有地内の問題で、市が直接対応できる範囲を超えるため。",
                   "すでに全市の事業として来年度の対応が決まっているため。",
                   "個人間のトラブルであり、地域課題としては扱わないため。",
                   "関係者の合意が得られず、現時点では進められないため。")
NEED_FEEDBACK = ("ご意見をいただいた件について、区で対応を完了しました。ありがとうございました。",
                 "ご要望の件は、同じ内容の別の声とあわせて検討を進めています。",
                 "今回は区として対応を見送ることになりました。理由は自治協議会でご説明しました。",
                 "ご相談の件について、担当課と協議した結果をお知らせしました。")
ACK_NOTES = ("受領しました。担当者を決めて内容を確認します。",
             "受領しました。現地確認の日程を調整します。", None)
QUESTIONS = ("対象となる箇所数と、校区自治協議会での合意の状況を教えてください。",
             "概算費用の内訳（整備費と毎年の維持管理費）を示してください。",
             "他の校区から同様の要望が出ているか確認できますか。",
             "地元で維持管理に協力いただける団体はありますか。")
ANSWERS = ("対象は{n}か所で、自治協議会では合意済みです。会議録を添付します。",
           "整備費と維持管理費の内訳を添付しました。維持管理には地元自治会が協力します。",
           "近隣の校区からも同様の声があり、一覧にまとめて添付しました。")
SOURCE_WEIGHTS: dict[str, dict[str, int]] = {
    "desk": {"counter": 6, "phone": 3, "survey": 2, "other": 1},  # ward offices, branches
    "field": {"council_meeting": 6, "neighbourhood_association": 5, "community_event": 3,
              "outreach": 4, "survey": 1, "phone": 1, "other": 1},
}
ACCEPT_REASONS = ("{theme}は総合計画の施策に合致し、複数の地区から要望があるため採択します。",
                  "安全上の必要性が高く、現地確認でも対策が必要と判断したため採択します。",
                  "既存事業の枠組みで実施でき、地域の協力体制も整っているため採択します。")
REJECT_REASONS = ("現行の{theme}に関する事業で対応できるため、新規事業としては採択しません。",
                  "利用見込みと費用対効果が確認できないため、今回は採択を見送ります。",
                  "法令上、市が実施主体となることが難しいため採択しません。")
DEFER_REASONS = ("全市の{theme}に関する計画の見直しとあわせて、{fy}年度に改めて判断します。",
                 "同様の提案が他区からも出ており、{fy}年度に一体で検討します。")
DECISION_REASONS = {"accept": ACCEPT_REASONS, "reject": REJECT_REASONS, "defer": DEFER_REASONS}
TRANSFER_REASONS = ("内容を確認したところ{theme}は当課の所管ではないため、主務課へ移管します。",
                    "事業の実施主体を整理した結果、主務課を変更します。")
MERGE_REASONS = ("同じ趣旨の提案（{other}）と一体で検討するため統合します。",
                 "{other}の提案と対象・内容が重なるため、一本化して進めます。")
WITHDRAW_REASONS = ("地域で再度話し合い、内容を見直すことになったため取り下げます。",
                    "区の既存事業で対応できることがわかったため取り下げます。")
COMMENTS = ("当区でも{theme}について同様の声があり、連携して進めたいと考えます。",
            "当課の関連事業と時期を合わせられるよう調整をお願いします。",
            "地域の方からも進み具合について問い合わせがあります。",
            "区長会議でも話題になりました。全市的な対応を期待します。")
NOTICES = ("{theme}について、次回の区長会議で全市的な方針をお示しする予定です。",
           "{theme}に関する来年度の予算編成方針を事前にお知らせします。")
IMPLEMENTATION_NOTES = ("地元説明会を終え、工事・事業に着手しました。",
                        "業者と契約し、準備を始めました。", None)
COMPLETION_SUMMARIES = ("{places}で{theme}に関する整備・事業を完了しました。",
                        "{theme}の取組を予定どおり終え、地元への報告会を開きました。")
FEEDBACK = {
    "accepted": "ご要望いただいた{theme}について、市として事業化することが決まりました。"
                "今後の進み具合は校区自治協議会でお知らせします。",
    "deferred": "{theme}については、{fy}年度に改めて判断することになりました。"
                "引き続き地域のご意見をお寄せください。",
    "budgeted": "{theme}の事業費が予算に計上されました。実施時期が決まり次第お知らせします。",
    "rejected": "{theme}については、今回は事業化を見送ることになりました。"
                "理由と今後の対応を自治協議会でご説明しました。",
    "not_budgeted": "{theme}の事業費は今年度の予算には計上されませんでした。"
                    "次年度に向けて引き続き要求を検討します。",
    "completed": "{theme}の取組が完了しました。ご協力いただいた皆さまありがとうございました。",
    "withdrawn": "区で再検討した結果、{theme}の提案はいったん取り下げました。"
                 "今後の進め方は地域と相談します。",
    "merged": "{theme}のご要望は、同じ趣旨の提案とまとめて検討されることになりました。",
}
EVALUATION_NOTES = ("校区自治協議会でのアンケート結果による。", "利用者への聞き取り結果による。",
                    "地元説明会での意見をもとに評価。", None)


# ── the shape of the proposal histories ─────────────────────────────────────────

#: paths of proposal actions leading to each status (variants are used in turn)
_PATHS: dict[str, tuple[str, ...]] = {
    "draft": ("amend", ""),
    "submitted": ("submit",),
    "acknowledged": ("submit ack", "submit transfer ack"),
    "info_requested": ("submit ack ask", "submit ask_co"),
    "under_review": ("submit ack review", "submit ack ask answer",
                     "submit review ask_co answer"),
    "accepted": ("submit ack review accept feedback", "submit ack ask answer accept"),
    "rejected": ("submit ack review reject feedback evaluate",
                 "submit transfer ack review reject feedback",
                 "submit ack ask_co answer reject feedback evaluate",
                 "submit ack review reject"),
    "deferred": ("submit ack review defer feedback", "submit ack ask answer defer"),
    "budget_requested": ("submit ack review accept feedback budget_request",),
    "budgeted": ("submit ack review accept budget_request budgeted feedback",),
    "not_budgeted": ("submit ack review accept budget_request not_budgeted feedback evaluate",
                     "submit ack review accept feedback budget_request not_budgeted"),
    "in_progress": ("submit ack review accept feedback start",
                    "submit ack review accept budget_request budgeted feedback start",
                    "submit ack review defer feedback review accept start"),
    "completed": ("submit ack review accept feedback start complete feedback evaluate",
                  "submit ack ask answer accept budget_request budgeted start complete feedback"
                  " evaluate",
                  "submit transfer ack review accept start complete feedback evaluate",
                  "submit review accept start complete"),
    "withdrawn": ("withdraw_return", "submit ack withdraw feedback", "submit ask withdraw_return"),
    "merged": ("submit ack merge feedback", "submit merge"),
}
PATHS = {status: tuple(tuple(p.split()) for p in paths) for status, paths in _PATHS.items()}
#: how many proposals end in each status
COUNTS = {"draft": 3, "submitted": 3, "acknowledged": 3, "info_requested": 3,
          "under_review": 4, "accepted": 3, "rejected": 5, "deferred": 3,
          "budget_requested": 3, "budgeted": 3, "not_budgeted": 3, "in_progress": 4,
          "completed": 6, "withdrawn": 3, "merged": 3}
#: business days from the previous act, by action ("ack" depends on the division's target)
GAPS = {"amend": (1, 5), "submit": (2, 12), "transfer": (1, 6), "ask": (2, 10),
        "ask_co": (2, 10), "answer": (2, 12), "review": (1, 6), "accept": (5, 30),
        "reject": (5, 30), "defer": (5, 30), "budget_request": (5, 25), "budgeted": (20, 50),
        "not_budgeted": (20, 50), "start": (10, 40), "complete": (20, 60),
        "feedback": (2, 16), "evaluate": (10, 30), "withdraw": (2, 10),
        "withdraw_return": (2, 10), "merge": (2, 8)}
#: open statuses end recently: at most this many business days before the last demo day
RECENT = {"draft": 30, "submitted": 20, "acknowledged": 20, "info_requested": 20,
          "under_review": 30, "accepted": 60, "deferred": 120, "budget_requested": 60,
          "budgeted": 90, "in_progress": 100}
#: the status each action leaves behind (for feedback text and evaluations)
AFTER = {"accept": "accepted", "reject": "rejected", "defer": "deferred",
         "budgeted": "budgeted", "not_budgeted": "not_budgeted", "complete": "completed",
         "withdraw": "withdrawn", "withdraw_return": "withdrawn", "merge": "merged"}
FINAL_ACTIONS = ("reject", "not_budgeted", "complete", "withdraw", "withdraw_return", "merge")
